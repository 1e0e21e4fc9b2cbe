from __future__ import annotations

import copy

import pytest

from tests.support.definitions import support_triage
from workflows_app.definition import parse_definition
from workflows_app.expressions import ExpressionError
from workflows_app.nodes.base import NodeContext, get_node_class, node_types


def context(**overrides) -> NodeContext:
    values = {
        "inputs": {"message": "The parcel is late again", "count": 2},
        "nodes": {"mood": {"label": "negative", "score": None}, "apology": None},
        "execution_id": "exec-9",
        "workflow": {"id": "wf-1", "name": "Support triage", "version": 3},
    }
    values.update(overrides)
    return NodeContext(**values)


@pytest.fixture
def graph():
    return parse_definition(support_triage())


def test_registry_knows_every_node_type():
    assert {"INPUT", "AI_PROCESSOR", "HTTP_REQUEST", "DATABASE", "TRANSFORM", "CONDITION", "OUTPUT"} <= set(
        node_types()
    )
    assert get_node_class("CONDITION").type_name == "CONDITION"
    assert get_node_class("AI_PROCESSOR").queue == "ai"
    assert get_node_class("HTTP_REQUEST").queue == "nodes"
    with pytest.raises(KeyError):
        get_node_class("NOPE")


def test_input_returns_the_inputs(graph):
    ctx = context()
    assert graph.nodes["ticket"].node.run(ctx) == {"message": "The parcel is late again", "count": 2}


@pytest.mark.parametrize(("label", "result"), [("negative", True), ("positive", False)])
def test_condition_chooses_the_branch(graph, label, result):
    ctx = context(nodes={"mood": {"label": label}})
    assert graph.nodes["angry"].node.run(ctx) == {"result": result}


def test_condition_on_a_skipped_node_is_false(graph):
    assert graph.nodes["angry"].node.run(context(nodes={"mood": None})) == {"result": False}


def test_output_renders_its_value_and_a_skipped_node_is_null(graph):
    assert graph.nodes["result"].node.run(context()) == {"mood": "negative", "reply": None}


def transform(value):
    return get_node_class("TRANSFORM").from_config("shape", {"value": value})


def test_transform_renders_any_json():
    node = transform(
        {
            "summary": "{{ workflow.name }} v{{ workflow.version }} ({{ execution.id }}): {{ inputs.message | upper }}",
            "count": "{{ inputs.count * 10 }}",
            "list": ["{{ nodes.mood.output.label }}", 1, True, None],
            "score_text": "score={{ nodes.mood.output.score }}",
        }
    )
    assert node.run(context()) == {
        "summary": "Support triage v3 (exec-9): THE PARCEL IS LATE AGAIN",
        "count": 20,
        "list": ["negative", 1, True, None],
        "score_text": "score=",
    }


def test_run_leaves_the_context_unchanged():
    ctx = context()
    before = copy.deepcopy((ctx.inputs, ctx.nodes))
    output = transform({"all": "{{ nodes.mood.output }}"}).run(ctx)
    output["all"]["label"] = "changed"
    assert (ctx.inputs, ctx.nodes) == before


def test_run_time_error_is_an_expression_error():
    with pytest.raises(ExpressionError, match="failed"):
        transform("{{ inputs.count / 0 }}").run(context())


def test_context_evaluates_and_renders_strings_too():
    ctx = context(secrets={"TOKEN": "t0k"})
    assert ctx.evaluate("inputs.count > 1") is True
    assert ctx.render({"auth": "Bearer {{ secrets.TOKEN }}"}) == {"auth": "Bearer t0k"}
    assert ctx.render_text("{{ nodes.mood.output }}") == '{"label":"negative","score":null}'
