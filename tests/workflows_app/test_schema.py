"""What the schema says of a workflow's definition is what the API takes."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_schema_says_a_definition_is_an_object_as_the_api_requires(auth_client) -> None:
    components = Client().get("/api/schema", {"format": "json"}).json()["components"]["schemas"]
    for body in ("WorkflowInputRequest", "PatchedWorkflowInputRequest", "DefinitionInputRequest"):
        definition = components[body]["properties"]["definition"]
        assert definition.get("type") == "object", body
        assert not definition.get("nullable"), body

    refused = auth_client.post("/api/workflows", {"name": "n", "definition": None}, format="json")
    assert refused.status_code == 400
    assert "definition" in refused.json()["error"]["details"]
