"""What the schema says of credential bodies is what the API takes."""

from __future__ import annotations

import pytest
from django.test import Client


def _body_schema(schema: dict, method: str, path: str) -> dict:
    ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.split("/")[-1]]


@pytest.mark.django_db
def test_the_schema_lets_a_put_leave_the_value_out_as_the_api_does(auth_client) -> None:
    schema = Client().get("/api/schema", {"format": "json"}).json()
    assert "value" in _body_schema(schema, "post", "/api/credentials")["required"]
    assert "value" not in _body_schema(schema, "put", "/api/credentials/{id}")["required"]

    made = auth_client.post("/api/credentials", {"name": "token", "value": "s3cret"}, format="json").json()
    kept = auth_client.put(f"/api/credentials/{made['id']}", {"name": "renamed"}, format="json")
    assert kept.status_code == 200 and kept.json()["name"] == "renamed"
