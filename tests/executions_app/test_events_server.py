"""GET /api/executions/{id}/events under the real web server: the Procfile's gunicorn
keeps answering other requests while streams are open, a user past
SWITCHBOARD_EVENTS_MAX_STREAMS_PER_USER gets a 429, a departed client's slot comes back
(the in-process slot tests are in test_event_stream_slots.py). No worker runs: the
executions stay queued, so their streams stay open."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest

from executions_app import events
from tests.support.executions import SSE, events_url, queued_execution
from tests.support.factories import DEFAULT_PASSWORD, ApiKeyFactory, UserFactory
from tests.support.web_server import running_web
from tests.support.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

CAP = 3  # the server's SWITCHBOARD_EVENTS_MAX_STREAMS_PER_USER
PROMPT_S = 2.0  # an ordinary request answers in tens of milliseconds; a blocked one never


# --- the real web server ---------------------------------------------------------------


@pytest.fixture
def web(transactional_db) -> Iterator[str]:
    with running_web(
        {
            "SWITCHBOARD_EVENTS_MAX_STREAMS_PER_USER": str(CAP),
            "SWITCHBOARD_EVENTS_MAX_S": "60",  # a stream left behind by a failed test ends anyway
        }
    ) as base:
        yield base


class EventStream:
    """One client's open GET …/events, read line by line."""

    def __init__(self, base: str, headers: dict[str, str], execution_id: str):
        self.client = httpx.Client(base_url=base, headers={**headers, "Accept": SSE}, timeout=5)
        self.response = self.client.send(self.client.build_request("GET", events_url(execution_id)), stream=True)
        self.status = self.response.status_code
        if self.status == 200:
            self.lines = self.response.iter_lines()
            assert next(self.lines) == "retry: 2000"  # the server's thread is in the stream
        else:
            self.response.read()

    def receives(self, marker: str) -> bool:
        """Reads on (past the replay of earlier events) until an event carrying `marker`."""
        for line in self.lines:
            if line.startswith("data: ") and marker in line:
                return True
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self.response.close()
        self.client.close()


def login(base: str, user) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access']}"}


def me_answers_promptly(base: str, headers: dict[str, str], username: str) -> None:
    started = time.monotonic()
    answer = httpx.get(f"{base}/api/auth/me", headers=headers, timeout=10)  # a new connection each time
    elapsed = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == username
    assert elapsed < PROMPT_S, f"GET /api/auth/me took {elapsed:.2f}s beside the open streams"


@pytest.mark.timeout(90)
def test_gunicorn_answers_other_requests_beside_open_streams_and_caps_them_per_user(web: str) -> None:
    alice, bob = UserFactory(), UserFactory()
    alice_execution, bob_execution = queued_execution(alice), queued_execution(bob)
    alice_auth = login(web, alice)  # a JWT from this server
    _, bob_key = ApiKeyFactory.create_with_key(user=bob)
    bob_auth = {"Authorization": f"Api-Key {bob_key}"}

    with contextlib.ExitStack() as open_streams:

        def open_one(headers: dict[str, str], execution_id: str) -> EventStream:
            return open_streams.enter_context(contextlib.closing(EventStream(web, headers, execution_id)))

        alice_streams = [open_one(alice_auth, alice_execution) for _ in range(CAP)]
        assert [s.status for s in alice_streams] == [200] * CAP

        # One more than the cap: refused at once, in the JSON error shape.
        refused = open_one(alice_auth, alice_execution)
        assert refused.status == 429
        assert refused.response.headers["content-type"] == "application/json"
        error = refused.response.json()["error"]
        assert error["code"] == "too_many_streams"
        assert f"already have {CAP} live event streams open" in error["message"]

        # The cap is per user: Bob still gets his streams.
        bob_streams = [open_one(bob_auth, bob_execution) for _ in range(CAP)]
        assert [s.status for s in bob_streams] == [200] * CAP

        # 2 x CAP streams hold threads of the 2 web processes; everything else is still served
        # (sync workers would have stopped answering after the second stream).
        for _ in range(4):
            me_answers_promptly(web, alice_auth, alice.username)
            me_answers_promptly(web, bob_auth, bob.username)

        # And the streams are live: an event reaches each of Alice's streams right away.
        events.emit_now(alice_execution, [events.node_event("probe", "running")])
        assert all(s.receives('"node_id":"probe"') for s in alice_streams)

        # A client that leaves gives its slot back: gunicorn notices on the next writes.
        alice_streams.pop().close()

        def reopened() -> EventStream | None:
            events.emit_now(alice_execution, [events.node_event("start", "running")])
            time.sleep(0.1)
            again = open_one(alice_auth, alice_execution)
            return again if again.status == 200 else None

        assert wait_for(reopened, timeout=10, interval=0.2).status == 200
        me_answers_promptly(web, alice_auth, alice.username)


# --- in-process: the slot's lease and a Redis failure mid-stream -----------------------
