"""Execution inputs checked against the INPUT node's fields (validate_inputs)."""

from __future__ import annotations

import pytest

from core.api import ValidationFailed
from tests.support.definitions import assert_problem, echo_definition
from workflows_app.definition import parse_definition, validate_inputs


def input_graph():
    definition = echo_definition()
    definition["nodes"][0]["config"]["fields"] = {
        "text": {"type": "string", "required": True},
        "count": {"type": "integer", "default": 1},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean", "default": False},
        "meta": {"type": "object"},
        "tags": {"type": "array", "default": ["a"]},
    }
    return parse_definition(definition)


def test_inputs_get_their_defaults():
    assert validate_inputs(input_graph(), {"text": "hi", "ratio": 2}) == {
        "text": "hi",
        "count": 1,
        "ratio": 2,
        "flag": False,
        "tags": ["a"],
    }


def test_inputs_report_every_problem():
    with pytest.raises(ValidationFailed) as caught:
        validate_inputs(input_graph(), {"count": "3", "ratio": True, "meta": [], "tags": {}, "extra": 1})
    assert caught.value.status_code == 400
    fields = {problem["field"]: problem["message"] for problem in caught.value.details}
    assert set(fields) == {"extra", "text", "count", "ratio", "meta", "tags"}
    assert "required" in fields["text"]
    assert "integer" in fields["count"]
    assert "unknown" in fields["extra"]


def test_inputs_must_be_an_object():
    with pytest.raises(ValidationFailed):
        validate_inputs(input_graph(), ["text"])


def test_inputs_with_nul_characters_are_refused():
    with pytest.raises(ValidationFailed) as caught:
        validate_inputs(input_graph(), {"text": "hi\x00", "meta": {"note": ["ok", "x\x00"], "k\x00": 1}})
    assert caught.value.status_code == 400
    assert caught.value.code == "validation_error"
    nul = [problem["field"] for problem in caught.value.details if "NUL" in problem["message"]]
    assert nul == ["text", "meta.note[1]", 'meta["k\\u0000"]']


def test_inputs_with_lone_surrogates_are_refused():
    # What json.loads makes of an escape like \ud800 with no pair; PostgreSQL's jsonb refuses it.
    with pytest.raises(ValidationFailed) as caught:
        validate_inputs(input_graph(), {"text": "hi\ud800", "meta": {"note": ["ok", "\udfff"], "k\udc00": 1}})
    assert caught.value.code == "validation_error"
    surrogate = [problem["field"] for problem in caught.value.details if "surrogate" in problem["message"]]
    assert surrogate == ["text", "meta.note[1]", 'meta["k\\udc00"]']


def test_integer_input_accepts_whole_floats():
    assert validate_inputs(input_graph(), {"text": "x", "count": 3.0})["count"] == 3


def test_input_field_schema():
    definition = echo_definition()
    definition["nodes"][0]["config"]["fields"]["n"] = {"type": "integer", "default": "one"}
    assert_problem(definition, node_id="start", path="nodes[0].config.fields.n", code="invalid_config")
    definition["nodes"][0]["config"]["fields"] = {"bad-name": {"type": "string"}}
    assert_problem(definition, node_id="start", path="nodes[0].config.fields", code="invalid_config")
