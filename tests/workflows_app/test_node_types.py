from __future__ import annotations

import jsonschema
import pytest

from tests.accounts_app.factories import UserFactory
from workflows_app.nodes.base import NodeContext, get_node_class, node_types

pytestmark = pytest.mark.django_db

URL = "/api/workflows/node-types"


def context() -> NodeContext:
    return NodeContext(
        inputs={"message": "The parcel is late again", "count": 2},
        nodes={"mood": {"label": "negative", "score": None}},
        execution_id="exec-9",
        workflow={"id": "wf-1", "name": "Support triage", "version": 3},
    )


def test_lists_every_registered_type_in_registry_order(api_client):
    api_client.force_authenticate(UserFactory())
    response = api_client.get(URL)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [entry["type"] for entry in results] == list(node_types())
    for entry in results:
        node_class = get_node_class(entry["type"])
        assert entry["queue"] == node_class.queue
        assert entry["default_max_attempts"] == node_class.default_max_attempts
        assert entry["secret_fields"] == sorted(node_class.secret_fields)
        assert entry["config_schema"]["type"] == "object" and entry["config_schema"]["properties"]
        assert isinstance(entry["output_schema"], dict)
        jsonschema.Draft202012Validator.check_schema(entry["output_schema"])


def test_schemas_describe_templates_and_secret_fields(api_client):
    api_client.force_authenticate(UserFactory())
    by_type = {entry["type"]: entry for entry in api_client.get(URL).json()["results"]}
    assert by_type["CONDITION"]["config_schema"]["properties"]["expression"]["type"] == "string"
    assert by_type["AI_PROCESSOR"]["config_schema"]["properties"]["prompt"]["type"] == "string"
    assert by_type["HTTP_REQUEST"]["secret_fields"] == ["body", "headers", "json", "query"]
    assert by_type["CONDITION"]["output_schema"]["required"] == ["result"]


@pytest.mark.parametrize("expression", ["inputs.count > 1", "'refund' in inputs.message"])
def test_condition_output_matches_its_schema(expression):
    node_class = get_node_class("CONDITION")
    output = node_class.from_config("check", {"expression": expression}).run(context())
    jsonschema.validate(output, node_class.output_schema)


@pytest.mark.parametrize(
    "value",
    [{"text": "{{ inputs.message }}", "n": "{{ inputs.count }}"}, "{{ nodes.mood.label }}", ["{{ inputs.count }}", 1]],
)
def test_transform_output_matches_its_schema(value):
    node_class = get_node_class("TRANSFORM")
    output = node_class.from_config("shape", {"value": value}).run(context())
    jsonschema.validate(output, node_class.output_schema)


def test_ai_output_shape_matches_its_schema():
    from ai_providers.base import CompletionResult

    output = CompletionResult(text="ok", provider="p", model="m", label="negative", score=None).as_output()
    jsonschema.validate(output, get_node_class("AI_PROCESSOR").output_schema)


def test_requires_authentication(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert "error" in response.json()
