"""Every error on /api/ is the JSON error shape with a stable code, never an HTML page,
DEBUG on or off."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

import pytest
from django.test import Client
from rest_framework.test import APIClient

from config.settings_logging import REFUSED_REQUEST_LOG_INTERVAL_S, REFUSED_REQUEST_LOGGERS
from core.log_filters import RateLimitedWarning
from tests.support.failing_urls import INTERNAL_DETAIL

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


def test_unknown_route_is_a_json_404(auth_client) -> None:
    assert_error(auth_client.get("/api/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_json_405(auth_client) -> None:
    assert_error(auth_client.put("/api/executions", {}, format="json"), 405, "method_not_allowed")


def test_wrong_media_type_is_a_json_415(auth_client) -> None:
    response = auth_client.post("/api/executions", "a=b", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_parse_error(auth_client) -> None:
    assert_error(auth_client.post("/api/executions", "{not json", content_type="application/json"), 400, "parse_error")


def test_a_body_nested_past_the_recursion_limit_is_a_400_not_a_500(auth_client) -> None:
    body = "[" * 100_000 + "]" * 100_000
    assert_error(auth_client.post("/api/workflows", body, content_type="application/json"), 400, "parse_error")


@pytest.mark.parametrize("path", ["/api/workflows", "/api/credentials", "/api/workflows/import"])
def test_an_unknown_field_named_with_a_lone_surrogate_is_a_400_that_names_it(auth_client, path) -> None:
    # The JSON escape \ud800 with no pair: valid JSON syntax, not encodable as UTF-8.
    response = auth_client.post(path, '{"\\ud800": 1}', content_type="application/json")
    assert_error(response, 400, "validation_error")
    assert response.json()["error"]["details"]["\ud800"] == ["Unknown field."]
    assert b"\\ud800" in response.content


def test_unauthenticated_is_a_json_401() -> None:
    assert_error(APIClient().get("/api/executions"), 401, "not_authenticated")


def browser() -> Client:
    """A client that gets the response a real client would, not the view's exception, and
    that is held to the CSRF check as a browser is."""
    return Client(raise_request_exception=False, enforce_csrf_checks=True)


def assert_server_error(response) -> None:
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "server_error", "message": "Internal server error.", "details": None}}
    assert INTERNAL_DETAIL not in response.content.decode()


@pytest.mark.urls("tests.support.failing_urls")
def test_an_unexpected_error_in_an_api_view_is_the_json_500_and_logged_with_its_traceback(caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = browser().get("/api/test-failures/drf")
    assert_server_error(response)
    logged = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert logged and INTERNAL_DETAIL in str(logged[0].exc_info[1])


@pytest.mark.urls("tests.support.failing_urls")
def test_an_unexpected_error_outside_drf_is_the_json_500_of_handler500() -> None:
    assert_server_error(browser().get("/api/test-failures/plain"))


def test_a_body_over_the_size_limit_is_a_json_413_naming_the_limit(auth_client, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "x" * 2000 + '"}'
    response = auth_client.post("/api/workflows", body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert response.json()["error"]["details"] == {"limit_bytes": 1000}


QUERY_LIMIT = 2048  # SWITCHBOARD_MAX_QUERY_STRING_BYTES by default


@pytest.mark.parametrize(
    "path", ["/api/auth/api-keys", "/api/workflows/00000000-0000-4000-8000-000000000000/versions", "/api/executions"]
)
def test_a_query_string_over_the_limit_is_a_json_414_naming_it(auth_client, path) -> None:
    at_limit = "q=" + "x" * (QUERY_LIMIT - 2)
    assert auth_client.get(f"{path}?{at_limit}").status_code in (200, 404)  # the route's own answer

    response = auth_client.get(f"{path}?{at_limit}x")
    assert_error(response, 414, "uri_too_long")
    assert response.json()["error"]["details"] == {"limit_bytes": QUERY_LIMIT}
    assert "SWITCHBOARD_MAX_QUERY_STRING_BYTES" in response.json()["error"]["message"]


def test_a_query_string_is_measured_in_bytes_for_any_method_and_client(settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_query_string_bytes=100)
    encoded = {"q": "é" * 17}  # %C3%A9: 6 bytes each, 104 with "q="
    assert_error(APIClient().get("/api/auth/api-keys", encoded), 414, "uri_too_long")
    assert_error(browser().post("/api/auth/login?" + "x" * 101, {}), 414, "uri_too_long")
    assert APIClient().get("/api/auth/api-keys", {"q": "é" * 16}).status_code == 401  # 98 bytes: through


def test_the_414_carries_the_cors_headers_a_browser_needs_to_read_it(settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    response = APIClient().get("/api/auth/api-keys?" + "x" * 3000, HTTP_ORIGIN="https://app.example")
    assert_error(response, 414, "uri_too_long")
    assert response["Access-Control-Allow-Origin"] == "https://app.example"


@pytest.fixture
def refused_log_clock(monkeypatch) -> list[float]:
    """The rate limit of the refused-request log lines, on a clock the test moves:
    [now], in seconds."""
    limiters = {
        id(f): f
        for name in REFUSED_REQUEST_LOGGERS
        for f in logging.getLogger(name).filters
        if isinstance(f, RateLimitedWarning)
    }
    assert len(limiters) == 1  # one limit for every refusal for size
    (limiter,) = limiters.values()
    now = [1000.0]
    monkeypatch.setattr(limiter, "clock", lambda: now[0])
    limiter.reset()
    yield now
    limiter.reset()


@pytest.mark.parametrize("debug", [False, True])
def test_oversized_bodies_from_anyone_log_a_rate_limited_warning_without_a_traceback(
    settings, caplog, refused_log_clock, debug
) -> None:
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    anonymous = APIClient()
    body = '{"refresh": "' + "x" * 2000 + '"}'

    def send() -> None:
        response = anonymous.post("/api/auth/refresh", body, content_type="application/json")
        assert_error(response, 413, "payload_too_large")

    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            send()
        refused_log_clock[0] += REFUSED_REQUEST_LOG_INTERVAL_S - 1
        send()  # still within the interval
        refused_log_clock[0] += 1
        send()

    logged = [r for r in caplog.records if r.name.startswith("django.security.")]
    assert [(r.name, r.levelname) for r in logged] == [("django.security.RequestDataTooBig", "WARNING")] * 2
    assert all(r.exc_info is None and r.exc_text is None for r in logged)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
    assert "more like it" not in logged[0].getMessage()
    assert (
        logged[1]
        .getMessage()
        .endswith(f"(3 more like it in the last {REFUSED_REQUEST_LOG_INTERVAL_S:.0f} s, not logged)")
    )


def test_a_trailing_slash_is_a_404_that_says_so(auth_client) -> None:
    response = auth_client.get("/api/workflows/")
    assert_error(response, 404, "not_found")
    assert response.json()["error"]["message"] == "Not found. API paths have no trailing slash: /api/workflows"
    assert auth_client.get("/api/nothing-here/").json()["error"]["message"] == "Not found."


def test_an_unknown_path_is_a_json_404_for_a_post_too_not_a_csrf_page() -> None:
    assert_error(browser().post("/api/nothing-here", {"a": "b"}), 404, "not_found")
    assert_error(browser().get("/api"), 404, "not_found")


class TestWithDebugOn:
    """DEBUG=1 (development) changes nothing on /api/: Django's debug pages are HTML."""

    @pytest.fixture(autouse=True)
    def _debug(self, settings) -> None:
        settings.DEBUG = True

    def test_an_unknown_path_is_a_json_404(self) -> None:
        assert_error(browser().get("/api/nothing-here"), 404, "not_found")
        assert_error(browser().post("/api/nothing/here", {"a": "b"}), 404, "not_found")

    def test_a_missing_object_is_a_json_404(self, auth_client) -> None:
        assert_error(auth_client.get(f"/api/workflows/{uuid.uuid4()}"), 404, "not_found")

    def test_wrong_method_is_a_json_405(self, auth_client) -> None:
        assert_error(auth_client.put("/api/executions", {}, format="json"), 405, "method_not_allowed")

    @pytest.mark.urls("tests.support.failing_urls")
    def test_an_unexpected_error_is_the_json_500_and_logged_with_its_traceback(self, caplog) -> None:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            response = browser().get("/api/test-failures/drf")
        assert_server_error(response)
        logged = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
        assert logged and INTERNAL_DETAIL in str(logged[0].exc_info[1])

    @pytest.mark.urls("tests.support.failing_urls")
    def test_the_test_client_still_sees_the_exception(self) -> None:
        # Django's got_request_exception is still sent: test clients and error reporters
        # that listen to it get the exception, not only the 500.
        with pytest.raises(RuntimeError, match=INTERNAL_DETAIL):
            Client().get("/api/test-failures/drf")

    def test_a_body_over_the_size_limit_is_a_json_413(self, auth_client, settings) -> None:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        body = '{"name": "' + "x" * 2000 + '"}'
        assert_error(
            auth_client.post("/api/workflows", body, content_type="application/json"), 413, "payload_too_large"
        )
