"""Definition limits (nodes, edges, size, depth), its overall shape, and NUL characters."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from tests.support.definitions import assert_problem, echo_definition, edge, node, problems_of
from workflows_app.definition import parse_definition


def chain(count: int) -> dict:
    nodes = [node("start", "INPUT")]
    nodes += [node(f"n{i}", "TRANSFORM", {"value": i}) for i in range(count)]
    nodes.append(node("result", "OUTPUT", {"value": 1}))
    ids = [n["id"] for n in nodes]
    return {"nodes": nodes, "edges": [edge(a, b) for a, b in itertools.pairwise(ids)]}


def test_node_count_limit(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_nodes=10)
    assert parse_definition(chain(8))
    assert_problem(chain(9), node_id=None, path="nodes", code="too_many_nodes")


def test_edge_count_limit(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_edges=5)
    assert_problem(chain(5), node_id=None, path="edges", code="too_many_edges")


def test_size_limit():
    definition = echo_definition("x" * (1024 * 1024))
    assert_problem(definition, node_id=None, path="", code="too_large")


def test_depth_limit():
    value: object = "leaf"
    for _ in range(40):
        value = {"v": value}
    definition = echo_definition()
    definition["nodes"][1]["config"]["value"] = value
    assert_problem(definition, node_id=None, path="", code="too_deep")


@pytest.mark.slow
def test_templates_are_counted_before_any_is_compiled(settings):
    """Each distinct template is compiled (about 0.25 ms): a 1 MB definition of 45,000 of
    them held a web thread for 15 s. Refused before the first is compiled."""
    definition = echo_definition()
    definition["nodes"][1]["config"]["value"] = [f"{{{{ inputs.a{i} }}}}" for i in range(45_000)]
    assert_problem(definition, node_id=None, path="", code="too_many_templates")
    assert parse_definition(definition, stored=True)  # a version saved before the limit still runs

    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_templates=10_000, max_template_chars=100)
    definition["nodes"][1]["config"]["value"] = ["{{ inputs.message }}" * 3, "{{ 'x' ~ inputs.message }}" * 2]
    assert_problem(definition, node_id=None, path="", code="too_many_templates")


def test_default_limits_are_the_designs(settings):
    limits = settings.SWITCHBOARD
    assert (limits.max_nodes, limits.max_edges, limits.max_definition_bytes) == (500, 2000, 1024 * 1024)


def test_nul_characters_are_refused_with_their_paths():
    # PostgreSQL's jsonb cannot hold \u0000: refused here, not a DataError (500) at save time.
    definition = echo_definition("Hello\x00{{ inputs.text }}")
    definition["nodes"][1]["config"]["value"]["ke\x00y"] = ["fine", {"deep": "a\x00"}]
    problems = [p for p in problems_of(definition) if p["code"] == "invalid_character"]
    assert [(p["node_id"], p["path"]) for p in problems] == [
        ("result", "nodes[1].config.value.echo"),
        ("result", 'nodes[1].config.value["ke\\u0000y"]'),
        ("result", 'nodes[1].config.value["ke\\u0000y"][1].deep'),
    ]
    assert "NUL" in problems[0]["message"]
    assert_problem(
        {**echo_definition(), "edges": [{"source": "st\x00art"}]},
        node_id=None,
        path="edges[0].source",
        code="invalid_character",
    )


def test_definition_must_be_an_object_of_lists():
    assert_problem(["not", "an", "object"], node_id=None, path="", code="invalid_type")
    assert_problem({"nodes": {}}, node_id=None, path="nodes", code="invalid_type")
    assert_problem({"nodes": [], "edges": [], "extra": 1}, node_id=None, path="extra", code="unknown_field")
