"""Requests as the real web server (the Procfile's gunicorn, ASGI) hands them to Django."""

from __future__ import annotations

import json
import socket
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

        # Over gunicorn's own limit the request never reaches Django: gunicorn's own
        # plain-text 414, as docs/operations/security.md says.
        beyond = httpx.get(f"{web}/api/auth/api-keys?q={'x' * 5000}")
        assert beyond.status_code == 414
        assert beyond.headers["Content-Type"].startswith("text/plain")  # gunicorn's own answer, not the JSON shape


# More than the web tier's threads (2 processes x 8): on a server where a thread reads the
# request (gunicorn's gthread), these connections left no thread free for anyone.
SLOW_CLIENTS = 160


@pytest.mark.timeout(120)
def test_clients_sending_their_body_slowly_leave_the_api_answering_everyone_else() -> None:
    user = UserFactory()
    with running_web() as web:
        host, port = web.removeprefix("http://").split(":")
        slow = []
        try:
            for _ in range(SLOW_CLIENTS):
                # The headers of a login announcing 1,000 bytes of body, then only the first.
                connection = socket.create_connection((host, int(port)), timeout=10)
                connection.sendall(
                    b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{"
                )
                slow.append(connection)
            with httpx.Client(base_url=web, timeout=10) as client:
                # An answer within the client's timeout for each: nobody is left waiting
                # for a thread while the slow bodies are still coming.
                answers = [client.get("/api/auth/me").status_code for _ in range(20)]
                login = client.post("/api/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD})
            assert answers == [401] * 20
            assert login.status_code == 200, login.text
        finally:
            for connection in slow:
                connection.close()
