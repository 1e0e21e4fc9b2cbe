"""API clients as a caller makes them: anonymous, with a JWT, with an API key; and the
error code of an answer."""

from __future__ import annotations

from rest_framework.test import APIClient

ME = "/api/auth/me"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def json_client() -> APIClient:
    client = APIClient()
    client.default_format = "json"  # the API parses JSON only
    return client


def bearer_client(access: str) -> APIClient:
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def api_key_client(raw_key: str) -> APIClient:
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client
