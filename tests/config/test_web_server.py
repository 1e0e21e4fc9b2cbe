"""Requests as the real web server (the Procfile's gunicorn) hands them to Django."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.web_server import running_web

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

LIMIT = 4000  # the server's SWITCHBOARD_MAX_BODY_BYTES


def chunks(body: bytes, size: int = 7) -> Iterator[bytes]:
    """An iterator without a length: httpx sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.timeout(60)
def test_a_chunked_json_body_is_read_and_one_over_the_limit_is_a_413() -> None:
    user = UserFactory()
    with running_web({"SWITCHBOARD_MAX_BODY_BYTES": str(LIMIT)}) as web:
        login = json.dumps({"username": user.username, "password": DEFAULT_PASSWORD}).encode()
        answer = httpx.post(
            f"{web}/api/auth/login", content=chunks(login), headers={"Content-Type": "application/json"}
        )
        assert answer.request.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in answer.request.headers
        assert answer.status_code == 200, answer.text
        assert answer.json()["access"]

        too_big = json.dumps({"username": "x" * LIMIT, "password": "y"}).encode()
        refused = httpx.post(
            f"{web}/api/auth/login", content=chunks(too_big, 1000), headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"]["code"] == "payload_too_large"
        assert refused.json()["error"]["details"]["limit_bytes"] == LIMIT


@pytest.mark.timeout(60)
def test_a_long_query_string_is_the_apps_json_414_up_to_gunicorns_own_limit() -> None:
    with running_web() as web:
        # Over the app's 2,048 bytes, under gunicorn's request line of 4,094: Django answers.
        refused = httpx.get(f"{web}/api/auth/api-keys?q={'x' * 3000}")
        assert refused.status_code == 414, refused.text
        assert refused.headers["Content-Type"] == "application/json"
        assert refused.json()["error"]["code"] == "uri_too_long"
        assert refused.json()["error"]["details"] == {"limit_bytes": 2048}

        # Over gunicorn's own limit the request never reaches Django: gunicorn's own HTML
        # 414, as docs/operations/security.md says.
        beyond = httpx.get(f"{web}/api/auth/api-keys?q={'x' * 5000}")
        assert beyond.status_code == 414
        assert beyond.headers["Content-Type"] == "text/html"  # gunicorn's own page, not the JSON shape
