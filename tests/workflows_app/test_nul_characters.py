"""A NUL character (\u0000) or a lone surrogate is refused by the API with a 400 naming its
path: PostgreSQL's jsonb cannot store one, so letting it through would end in a DataError, a 500."""

from __future__ import annotations

import json

import pytest

from executions_app.models import Execution
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def test_a_definition_with_a_nul_is_a_400_naming_the_path(auth_client):
    definition = echo_definition("Hello\u0000{{ inputs.text }}")
    response = auth_client.post("/api/workflows", {"name": "x", "definition": definition}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_definition"
    assert [(p["node_id"], p["path"], p["code"]) for p in error["details"]] == [
        ("result", "nodes[1].config.value.echo", "invalid_character")
    ]


def test_inputs_with_a_nul_are_a_400_naming_the_path(auth_client, user):
    workflow = WorkflowFactory(owner=user)
    body = {"workflow_id": str(workflow.id), "inputs": {"text": "hi\u0000there"}}
    response = auth_client.post("/api/executions", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [problem["field"] for problem in error["details"]] == ["text"]
    assert Execution.objects.count() == 0


@pytest.mark.parametrize("field", ["name", "description"])
def test_an_import_with_a_nul_in_its_name_or_description_is_a_400(auth_client, field):
    document = {"name": "x", "description": "", "definition": echo_definition(), field: "Hello\u0000there"}
    response = auth_client.post("/api/workflows/import", document, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {field: ["Null characters are not allowed."]}


def test_a_definition_with_a_lone_surrogate_is_a_400_naming_the_path(auth_client):
    # Sent as the JSON escape a client would send: a lone surrogate is not valid UTF-8.
    body = json.dumps({"name": "x", "definition": echo_definition("Hello\ud800{{ inputs.text }}")})
    response = auth_client.post("/api/workflows", body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_definition"
    assert [(p["path"], p["code"]) for p in error["details"]] == [("nodes[1].config.value.echo", "invalid_character")]


def test_a_text_with_both_a_nul_and_a_lone_surrogate_is_a_400_naming_its_path(auth_client):
    body = json.dumps({"name": "x", "definition": echo_definition("a\u0000b\ud800")})
    response = auth_client.post("/api/workflows", body, content_type="application/json")
    assert response.status_code == 400
    problems = response.json()["error"]["details"]
    assert [(p["path"], p["code"]) for p in problems] == [("nodes[1].config.value.echo", "invalid_character")]
    assert "surrogate" in problems[0]["message"]
