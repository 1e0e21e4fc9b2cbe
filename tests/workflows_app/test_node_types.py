"""GET /api/workflows/node-types, and the output schema each type declares: a type whose
output is any JSON says so, every other type's real outputs match its schema, and a wrong
output does not (so the validation is shown to refuse something)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from ai_providers.base import CompletionResult, Usage
from tests.support.node_ports import (
    FakeAiCompleter,
    FakeChildren,
    FakeHttpClient,
    FakeRecordStore,
    fake_ports,
    http_answer,
    node_context,
)
from workflows_app.nodes.base import DeferredWrite, Suspend, get_node_class, node_types

URL = "/api/workflows/node-types"

# The types whose output is whatever their template renders: any JSON value, by design.
ANY_JSON = {"TRANSFORM", "OUTPUT"}
# Keywords that describe a value without constraining it.
ANNOTATIONS = {"title", "description", "examples", "$comment"}


def constraints(schema: dict) -> dict:
    """The schema less its annotations: {} accepts any JSON value."""
    return {key: value for key, value in schema.items() if key not in ANNOTATIONS}


def schema_of(type_name: str) -> dict:
    schema = get_node_class(type_name).output_schema
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def run(type_name: str, config: dict, state: Any = None, **ports: Any) -> Any:
    """The output of one run of the type, with fakes of the ports it uses (a write applied;
    a type that suspends is run again with the state it saved until it gives its output).
    `state`: what a suspended node saved, for a first run as if woken."""
    node = get_node_class(type_name).from_config("n", config)
    inputs = {"message": "The parcel is late again", "count": 2}
    output = node.run(node_context(fake_ports(**ports), inputs=inputs, state=state))
    while isinstance(output, Suspend):
        output = node.run(node_context(fake_ports(**ports), inputs=inputs, state=output.state))
    return output.apply() if isinstance(output, DeferredWrite) else output


SENTIMENT = CompletionResult(text="negative", provider="p", model="m", label="negative", score=None)
CHILD_ID = "6f1c0c1e-2f7a-4c59-9d7e-0b7f4f4f2a10"
JSON_ANSWER = CompletionResult(text="{}", provider="p", model="m", usage=Usage(3, 1), json={"a": [1]}, cached=True)

# Real outputs, one run each: (type, config, fakes of its ports).
REAL_RUNS = [
    ("INPUT", {"fields": {"message": {"type": "string"}}}, {}),
    ("CONDITION", {"expression": "inputs.count > 1"}, {}),
    ("CONDITION", {"expression": "'refund' in inputs.message"}, {}),
    ("WAIT", {"seconds": 0.01}, {}),
    (
        "APPROVAL",
        {"message": "ok?"},
        {"state": {"decision": {"decision": "reject", "by": "ada", "at": "2026-01-01T00:00:00+00:00", "data": None}}},
    ),
    ("DATABASE", {"operation": "find", "collection": "c"}, {"records": FakeRecordStore(records=[{"id": 1, "a": 2}])}),
    ("DATABASE", {"operation": "find_one", "collection": "c"}, {"records": FakeRecordStore()}),
    ("DATABASE", {"operation": "count", "collection": "c"}, {"records": FakeRecordStore(count=4)}),
    ("DATABASE", {"operation": "insert", "collection": "c", "document": {"a": 1}}, {"records": FakeRecordStore()}),
    (
        "DATABASE",
        {"operation": "update", "collection": "c", "filter": {"a": 1}, "update": {"a": 2}},
        {"records": FakeRecordStore(updated=(2, 1))},
    ),
    (
        "DATABASE",
        {"operation": "delete", "collection": "c", "filter": {"a": 1}},
        {"records": FakeRecordStore(deleted=3)},
    ),
    ("HTTP_REQUEST", {"url": "https://api.example.com/"}, {"http": FakeHttpClient(http_answer(200, b'{"ok": 1}'))}),
    (
        "HTTP_REQUEST",
        {"url": "https://api.example.com/"},
        {"http": FakeHttpClient(http_answer(200, "hi", "text/plain"))},
    ),
    ("AI_PROCESSOR", {"task_type": "sentiment_analysis", "prompt": "x"}, {"ai": FakeAiCompleter(SENTIMENT)}),
    ("AI_PROCESSOR", {"task_type": "content_generation", "prompt": "x"}, {"ai": FakeAiCompleter(JSON_ANSWER)}),
    (
        "SUBWORKFLOW",
        {"workflow_id": CHILD_ID, "inputs": {"n": "{{ inputs.count }}"}},
        {"children": FakeChildren(lambda inputs: {"result": inputs["n"] * 2})},
    ),
    (
        "MAP",
        {"workflow_id": CHILD_ID, "items": "[1, 2, 3]", "inputs": {"n": "{{ item }}"}, "concurrency": 2},
        {"children": FakeChildren(lambda inputs: {"result": inputs["n"] * 2})},
    ),
    (
        "MAP",
        {"workflow_id": CHILD_ID, "items": "[1]", "inputs": {"n": "{{ item }}"}, "on_item_error": "collect"},
        {"children": FakeChildren(lambda inputs: {"result": inputs["n"] * 2})},
    ),
]

# For every type with a real schema: an output it must refuse.
WRONG_OUTPUTS = {
    "INPUT": ["not", "an", "object"],
    "CONDITION": {"result": "yes"},
    "WAIT": {"waited_s": "1"},
    "APPROVAL": {"result": False, "decision": "maybe", "by": "ada", "at": "now", "comment": None, "data": None},
    "DATABASE": {"records": "none"},
    "HTTP_REQUEST": {"status": 200, "headers": {}},  # neither `json` nor `text`
    "AI_PROCESSOR": {"text": "hi", "provider": "p"},  # model, usage, ... missing
    "SUBWORKFLOW": ["not", "an", "object"],
    "MAP": {"not": "a list"},
}


def test_a_type_whose_output_is_any_json_declares_it_and_every_other_type_constrains_it() -> None:
    for type_name in node_types():
        schema = schema_of(type_name)
        if type_name in ANY_JSON:
            assert constraints(schema) == {}, type_name  # meant: any JSON value is a valid output
        else:
            assert constraints(schema) != {}, f"{type_name}'s output_schema accepts anything"


@pytest.mark.parametrize(("type_name", "config", "ports"), REAL_RUNS, ids=[run[0] for run in REAL_RUNS])
def test_a_real_output_matches_its_types_schema(type_name: str, config: dict, ports: dict) -> None:
    schema = schema_of(type_name)
    assert constraints(schema), f"{type_name} has no schema to check against"
    jsonschema.validate(run(type_name, config, **ports), schema)


def test_every_type_with_a_schema_has_real_outputs_and_a_wrong_one_here() -> None:
    constrained = set(node_types()) - ANY_JSON
    assert {type_name for type_name, _, _ in REAL_RUNS} == constrained
    assert set(WRONG_OUTPUTS) == constrained


@pytest.mark.parametrize("type_name", sorted(WRONG_OUTPUTS))
def test_a_wrong_output_fails_its_types_schema(type_name: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(WRONG_OUTPUTS[type_name], schema_of(type_name))


@pytest.mark.parametrize(
    "value",
    [{"text": "{{ inputs.message }}", "n": "{{ inputs.count }}"}, "{{ nodes.mood.label }}", ["{{ inputs.count }}", 1]],
)
@pytest.mark.parametrize("type_name", sorted(ANY_JSON))
def test_an_any_json_output_is_json(type_name: str, value: Any) -> None:
    output = run(type_name, {"value": value})
    assert json.loads(json.dumps(output, allow_nan=False)) == output


@pytest.mark.django_db
def test_lists_every_registered_type_in_registry_order(auth_client) -> None:
    response = auth_client.get(URL)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [entry["type"] for entry in results] == list(node_types())
    for entry in results:
        node_class = get_node_class(entry["type"])
        assert entry["queue"] == node_class.queue
        assert entry["default_max_attempts"] == node_class.default_max_attempts
        assert entry["secret_fields"] == sorted(node_class.secret_fields)
        assert entry["config_schema"]["type"] == "object" and entry["config_schema"]["properties"]
        assert entry["output_schema"] == node_class.output_schema
        jsonschema.Draft202012Validator.check_schema(entry["output_schema"])


@pytest.mark.django_db
def test_schemas_describe_templates_and_secret_fields(auth_client) -> None:
    by_type = {entry["type"]: entry for entry in auth_client.get(URL).json()["results"]}
    assert by_type["CONDITION"]["config_schema"]["properties"]["expression"]["type"] == "string"
    assert by_type["AI_PROCESSOR"]["config_schema"]["properties"]["prompt"]["type"] == "string"
    assert by_type["HTTP_REQUEST"]["secret_fields"] == ["body", "headers", "json", "query"]
    assert by_type["CONDITION"]["output_schema"]["required"] == ["result"]


@pytest.mark.django_db
def test_requires_authentication(api_client) -> None:
    response = api_client.get(URL)
    assert response.status_code == 401
    assert "error" in response.json()
