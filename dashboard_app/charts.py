"""The dashboard's SVG charts, rendered on the server by pygal (docs/operations/monitoring.md).

The SVG is served as an image, so it carries no script: pygal's JS tooltips are off
(`js=[]`) and its inline config `<script>` is dropped by an XML filter. Labels go through
pygal's ElementTree output, which escapes them; every bar keeps a `<title>` naming its
label, series and value."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element

import pygal
from pygal.style import Style

STATUS_COLORS = {
    "completed": "#2e9d57",
    "failed": "#d64545",
    "canceled": "#8a8f98",
    "running": "#3b7dd8",
    "queued": "#e0a526",
}
BAR_COLOR = "#3b7dd8"
FONT_FAMILY = "system-ui, sans-serif"


def _without_scripts(root: Element) -> Element:
    """Remove every <script> pygal adds (its config block lives in <defs>)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _style(colors: Sequence[str]) -> Style:
    return Style(
        background="#fff",
        plot_background="#fff",
        foreground="#444",
        foreground_strong="#222",
        foreground_subtle="#eee",
        font_family=FONT_FAMILY,
        title_font_family=FONT_FAMILY,
        label_font_family=FONT_FAMILY,
        major_label_font_family=FONT_FAMILY,
        legend_font_family=FONT_FAMILY,
        title_font_size=12,
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=11,
        no_data_font_size=14,
        opacity="1",
        opacity_hover="1",
        guide_stroke_color="#eee",
        guide_stroke_dasharray="0",
        major_guide_stroke_color="#eee",
        major_guide_stroke_dasharray="0",
        colors=tuple(colors) or (BAR_COLOR,),
    )


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    colors: dict[str, str] | None = None,
    width: int = 600,
    height: int = 240,
    label_every: int = 3,
    legend: bool = True,
) -> str:
    """One bar per label, stacked by series (in the order given), with a legend."""
    colors = colors or STATUS_COLORS
    chart = pygal.StackedBar(
        title=title,
        width=width,
        height=height,
        explicit_size=True,
        style=_style([colors.get(name, BAR_COLOR) for name in series]),
        js=[],
        disable_xml_declaration=True,
        show_legend=legend,
        legend_at_bottom=True,
        legend_at_bottom_columns=max(1, len(series)),
        legend_box_size=10,
        x_labels=list(labels),
        x_labels_major_every=max(1, label_every),
        show_minor_x_labels=False,
        truncate_label=-1,
        truncate_legend=-1,
        min_scale=1,
        max_scale=5,
        margin=8,
    )
    chart.add_xml_filter(_without_scripts)
    for name, values in series.items():
        chart.add(
            name,
            [
                # A zero draws nothing (None), like an empty slot.
                {"value": value, "tooltip": f"{label} {name}: {value:g}"} if value else None
                for label, value in zip(labels, values, strict=True)
            ],
        )
    return chart.render(is_unicode=True)


def bars(title: str, labels: Sequence[str], values: Sequence[float], width: int = 600, height: int = 240) -> str:
    """A plain bar chart, every label shown."""
    return stacked_bars(title, labels, {"count": values}, {"count": BAR_COLOR}, width, height, 1, legend=False)
