"""GET /api/schema answers every request, concurrent first ones included."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.test import Client
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework.test import APIClient

from tests.support.factories import UserFactory


def test_two_schema_requests_at_once_both_get_the_schema_while_an_extension_loads() -> None:
    class SlowMissingTarget(OpenApiSerializerExtension):  # registers itself; loaded on first use
        target_class = "tests.support.slow_missing.Target"

    start = threading.Barrier(2)
    statuses: list[int] = []

    def fetch() -> None:
        client = Client(raise_request_exception=False)
        start.wait()
        statuses.append(client.get("/api/schema", {"format": "json"}).status_code)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200, 200]
    assert SlowMissingTarget.target_class is None  # not importable: the extension never matches


@pytest.mark.django_db
def test_the_schema_documents_the_errors_a_client_meets_in_the_shape_they_come_in() -> None:
    schema = Client().get("/api/schema", {"format": "json"}).json()
    error = schema["components"]["schemas"]["Error"]
    operations = {(method, path): op for path, ops in schema["paths"].items() for method, op in ops.items()}
    for (method, path), operation in operations.items():
        responses = operation["responses"]
        if operation.get("security") and {} not in operation["security"]:
            assert "401" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "409" in operations[("post", "/api/executions")]["responses"]
    assert "409" in operations[("put", "/api/workflows/{id}")]["responses"]

    # A real error carries exactly what the schema says it does.
    api = APIClient()
    api.force_authenticate(UserFactory())
    body = api.get(f"/api/workflows/{uuid.uuid4()}").json()
    assert set(body) == set(error["required"])
    assert set(body["error"]) == set(error["properties"]["error"]["required"])


@pytest.mark.django_db
def test_the_schema_lists_the_414_of_a_long_query_string_on_every_operation() -> None:
    schema = Client().get("/api/schema", {"format": "json"}).json()
    operations = [(method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    assert ("get", "/api/auth/api-keys") in {(method, path) for method, path, _ in operations}
    for method, path, operation in operations:
        too_long = operation["responses"].get("414")
        assert too_long is not None, (method, path)
        assert "`uri_too_long`" in too_long["description"]
        assert "SWITCHBOARD_MAX_QUERY_STRING_BYTES" in too_long["description"]
        assert too_long["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.django_db
def test_every_request_body_says_it_refuses_fields_it_does_not_list_as_the_server_does(auth_client) -> None:
    schema = Client().get("/api/schema", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    bodies = {
        (method, path): components[op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    }
    assert ("post", "/api/workflows") in bodies and ("patch", "/api/credentials/{id}") in bodies
    for operation, body in bodies.items():
        # A client generating or checking bodies from the schema must not add fields.
        assert body.get("additionalProperties") is False, operation

    refused = auth_client.post("/api/auth/api-keys", {"name": "ci", "colour": "red"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"colour": ["Unknown field."]}


def test_request_bodies_are_described_by_their_own_words_not_a_shared_base_class() -> None:
    schema = Client().get("/api/schema", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    described = {name: body.get("description", "") for name, body in components.items() if name.endswith("Request")}
    # The OpenAPI takes the first docstring up a serializer's classes: one on a shared base
    # would describe every body that has none, as if it were theirs.
    assert described["LoginInputRequest"] == "Credentials exchanged for an access and a refresh token."
    # A serializer and its PATCH variant share their words; no two serializers do.
    serializers_by_text: dict[str, set[str]] = {}
    for name, text in described.items():
        if text:
            serializers_by_text.setdefault(text, set()).add(name.removeprefix("Patched"))
    assert {text: names for text, names in serializers_by_text.items() if len(names) > 1} == {}
