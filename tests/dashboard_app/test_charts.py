"""The pygal charts: plain SVG with no script, hostile labels escaped, the numbers drawn."""

from __future__ import annotations

from xml.etree import ElementTree

from dashboard_app import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"


def titles(svg: str) -> list[str]:
    return [title.text or "" for title in ElementTree.fromstring(svg).iter(f"{SVG}title")]


def test_the_svg_has_no_script_and_escapes_hostile_labels() -> None:
    svg = charts.stacked_bars(
        f"Runs {HOSTILE}", ["00:00", HOSTILE], {"completed": [1, 2], f"{HOSTILE}": [0, 3]}, label_every=1
    )
    assert "<script" not in svg.lower()
    assert "javascript" not in svg.lower()
    assert not svg.startswith("<?xml")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    root = ElementTree.fromstring(svg)  # well-formed XML, the labels are text, not elements
    assert not [node for node in root.iter() if node.tag.rsplit("}", 1)[-1] == "script"]
    assert f"Runs {HOSTILE}" in titles(svg)
    assert f"{HOSTILE} {HOSTILE}: 3" in titles(svg)


def test_stacked_bars_carry_their_numbers_and_status_colours() -> None:
    svg = charts.stacked_bars("Executions", ["00:00", "01:00"], {"completed": [4, 0], "failed": [0, 7]})
    assert sorted(text for text in titles(svg) if ": " in text) == ["00:00 completed: 4", "01:00 failed: 7"]
    assert charts.STATUS_COLORS["completed"] in svg and charts.STATUS_COLORS["failed"] in svg
    root = ElementTree.fromstring(svg)
    assert (root.get("width"), root.get("height")) == ("600", "240")


def test_plain_bars_and_an_empty_chart_render() -> None:
    svg = charts.bars("Durations", ["1s", ">1s"], [2, 5])
    assert sorted(text for text in titles(svg) if ": " in text) == ["1s count: 2", ">1s count: 5"]
    empty = charts.stacked_bars("Nothing yet", ["00:00"], {"completed": [0], "failed": [0]})
    assert "<script" not in empty and not [text for text in titles(empty) if ": " in text]
