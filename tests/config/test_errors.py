"""Every error on /api/ is the JSON error shape with a stable code, never an HTML page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.accounts_app.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.force_authenticate(UserFactory())
    return api


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


def test_unknown_route_is_a_json_404(client) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_json_405(client) -> None:
    assert_error(client.put("/api/executions", {}, format="json"), 405, "method_not_allowed")


def test_wrong_media_type_is_a_json_415(client) -> None:
    response = client.post("/api/executions", "a=b", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_parse_error(client) -> None:
    assert_error(client.post("/api/executions", "{not json", content_type="application/json"), 400, "parse_error")


def test_a_body_nested_past_the_recursion_limit_is_a_400_not_a_500(client) -> None:
    body = "[" * 100_000 + "]" * 100_000
    assert_error(client.post("/api/workflows", body, content_type="application/json"), 400, "parse_error")


def test_unauthenticated_is_a_json_401() -> None:
    assert_error(APIClient().get("/api/executions"), 401, "not_authenticated")
