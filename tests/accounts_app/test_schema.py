from __future__ import annotations

from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


def accounts_schema() -> dict:
    generator = SchemaGenerator(patterns=[path("api/auth/", include("accounts_app.urls"))])
    return generator.get_schema(request=None, public=True)


def test_the_accounts_schema_is_valid_openapi_with_both_auth_schemes():
    schema = accounts_schema()

    validate_schema(schema)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["apiKeyAuth"]["description"],
    }
    assert schemes["jwtAuth"]["scheme"] == "bearer"
    assert schema["paths"]["/api/auth/me"]["get"]["security"] == [{"jwtAuth": []}, {"apiKeyAuth": []}]
    assert "security" not in schema["paths"]["/api/auth/login"]["post"]


def test_the_key_list_is_documented_as_paginated():
    schema = accounts_schema()

    listed = schema["paths"]["/api/auth/api-keys"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["$ref"].endswith("PaginatedApiKeyOutputList")


def test_the_schema_gives_the_longest_key_lifetime_the_api_takes(settings, auth_client):
    settings.API_KEY_MAX_DAYS = 30
    body = accounts_schema()["components"]["schemas"]["ApiKeyCreateInputRequest"]

    assert body["properties"]["expires_in_days"]["maximum"] == 30
    refused = auth_client.post("/api/auth/api-keys", {"name": "ci", "expires_in_days": 31}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"expires_in_days": ["Keys expire within 30 days at most."]}
    made = auth_client.post("/api/auth/api-keys", {"name": "ci", "expires_in_days": 30}, format="json")
    assert made.status_code == 201
