"""Definition checks that name what is missing or misnamed: a node type, AI providers, input
names, an insert's document; and a version saved before the newer ones still runs."""

from __future__ import annotations

import pytest

from tests.support.definitions import assert_problem, echo_definition, node_in, problems_of, support_triage
from workflows_app.definition import parse_definition


def test_a_provider_alone_means_its_default_model_where_it_has_one():
    definition = support_triage()
    node_in(definition, "mood")["config"]["providers"] = ["openai_compatible", "gemini/gemini-2.5-flash"]
    assert parse_definition(definition)
    node_in(definition, "mood")["config"]["providers"] = ["chatgpt/gpt-4"]
    assert "unknown provider 'chatgpt'; providers are: gemini, groq" in str(problems_of(definition))


def test_a_misspelled_input_is_refused_at_save_but_a_stored_version_still_runs():
    definition = echo_definition()  # its INPUT declares `text`
    definition["nodes"][1]["config"]["value"] = {
        "a": "{{ inputs.txet }}",
        "b": "{{ inputs['text'] }}",
        "c": "{{ inputs }}",
    }
    problem = assert_problem(definition, node_id="result", path="nodes[1].config.value.a", code="unknown_input")
    assert problem["message"] == "inputs.txet is not a field of the INPUT node (its fields: text)"
    assert len(problems_of(definition)) == 1
    assert parse_definition(definition, stored=True)  # saved before the check: it runs as it did


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"id": 1, "name": "x"}, "the record's own id"),
        ("{{ inputs.text }} and more", "one {{ expression }}"),
        ([1], "object"),
    ],
)
def test_an_insert_document_is_an_object_or_one_expression(document, says):
    definition = echo_definition()
    definition["nodes"].insert(
        1,
        {"id": "save", "type": "DATABASE", "config": {"operation": "insert", "collection": "c", "document": document}},
    )
    definition["edges"] = [{"source": "start", "target": "save"}, {"source": "save", "target": "result"}]
    problem = problems_of(definition)[0]
    assert problem["code"] == "invalid_config" and problem["path"].startswith("nodes[1].config.document")
    assert says in problem["message"]
    definition["nodes"][1]["config"]["document"] = "{{ inputs.text }}"  # an object when it runs, or the node fails then
    assert parse_definition(definition)


def test_checks_added_later_do_not_stop_a_stored_version_from_running():
    definition = support_triage()
    node_in(definition, "mood")["config"]["providers"] = ["openai/gpt-4o"]  # no such provider: fails when it runs
    log_config = node_in(definition, "log")["config"]
    log_config["document"] = {**log_config["document"], "id": "{{ inputs.message }}"}
    assert {p["path"] for p in problems_of(definition)} >= {"nodes[1].config.providers[0]"}
    graph = parse_definition(definition, stored=True)
    assert graph.nodes["mood"].node.config.providers == ["openai/gpt-4o"]


@pytest.mark.parametrize(
    ("providers", "path"),
    [(["groq/llama", "chatgpt/gpt-4"], "nodes[1].config.providers[1]"), (["gemini/"], "nodes[1].config.providers[0]")],
)
def test_ai_providers_are_checked_one_by_one(providers, path):
    definition = support_triage()
    node_in(definition, "mood")["config"]["providers"] = providers
    assert_problem(definition, node_id="mood", path=path, code="invalid_config")


def test_a_node_without_a_type_is_told_to_name_one():
    definition = echo_definition()
    del definition["nodes"][1]["type"]
    problem = assert_problem(definition, node_id="result", path="nodes[1].type", code="missing_field")
    assert problem["message"].startswith("a node needs a type; types are: AI_PROCESSOR")
