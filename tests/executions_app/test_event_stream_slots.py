"""In-process: a stream's slot outlives neither its client, nor a killed web process, nor
a Redis failure mid-stream; with Redis down, a finished execution's stream still tells
its end. No worker runs: the executions stay queued."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest
import redis
from django.db import connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from development.embedded_redis import free_port
from executions_app import event_stream, events, stream_slots
from executions_app.models import Execution
from tests.support.definitions import edge, input_node, node
from tests.support.executions import events_url, queued_execution

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_stream_each(settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, events_max_streams_per_user=1)


def dead_redis() -> redis.Redis:
    """A client of a port nothing listens on: every command fails as in an outage (at
    once: without redis-py's retries and their backoff)."""
    return redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


def test_a_stream_closed_before_its_first_frame_gives_its_slot_back(browser, user, one_stream_each) -> None:
    execution_id = queued_execution(user)

    first = browser.get(events_url(execution_id))
    assert first.status_code == 200
    assert browser.get(events_url(execution_id)).status_code == 429
    first.close()  # what the server does when the client is gone

    second = browser.get(events_url(execution_id))
    assert second.status_code == 200
    second.close()


@pytest.mark.slow
def test_a_slot_left_by_a_killed_web_process_frees_itself_when_its_lease_ends(
    browser, user, settings, monkeypatch
) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, events_max_streams_per_user=2)
    monkeypatch.setattr(stream_slots, "SLOT_LEASE_S", 1.0)
    execution_id = queued_execution(user)
    opened_at = time.monotonic()
    browser.get(events_url(execution_id))  # never closed nor renewed: its process "died"
    time.sleep(0.5)
    live = browser.get(events_url(execution_id))
    assert live.status_code == 200
    assert browser.get(events_url(execution_id)).status_code == 429

    time.sleep(max(0.0, opened_at + 1.3 - time.monotonic()))  # the dead one's lease is over, not the live one's
    reopened = browser.get(events_url(execution_id))
    assert reopened.status_code == 200
    reopened.close()
    live.close()


@pytest.mark.slow
def test_a_stream_open_longer_than_its_lease_keeps_its_slot_until_it_ends(
    browser, user, one_stream_each, settings, monkeypatch
) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, events_max_s=2.5)
    monkeypatch.setattr(stream_slots, "SLOT_LEASE_S", 1.0)
    execution_id = queued_execution(user)
    response = browser.get(events_url(execution_id))

    def read_to_the_end() -> None:
        try:
            b"".join(response.streaming_content)
        finally:
            connection.close()

    reader = threading.Thread(target=read_to_the_end)
    reader.start()
    time.sleep(1.6)  # past the first lease: only renewals keep the slot
    assert browser.get(events_url(execution_id)).status_code == 429
    reader.join(timeout=10)
    assert not reader.is_alive()

    after_the_end = browser.get(events_url(execution_id))
    assert after_the_end.status_code == 200
    after_the_end.close()


def test_a_stream_whose_redis_fails_ends_cleanly_and_gives_its_slot_back(
    browser, user, one_stream_each, monkeypatch
) -> None:
    execution_id = queued_execution(user)
    real_read, reads = events.read, []

    def read_then_fail(*args, **kwargs):
        reads.append(1)
        if len(reads) > 1:
            monkeypatch.setattr(events, "get_redis_connection", lambda alias: dead_redis())
        return real_read(*args, **kwargs)

    monkeypatch.setattr(events, "read", read_then_fail)
    started = time.monotonic()

    response = browser.get(events_url(execution_id))
    body = b"".join(response.streaming_content).decode()  # raises if the stream breaks off

    assert response.status_code == 200
    assert time.monotonic() - started < 5
    assert body.startswith("retry: 2000\n\n")
    assert body.endswith(
        f"retry: {event_stream.REDIS_LOST_RETRY_MS}\n: live events are unavailable for now, reconnect later\n\n"
    )
    response.close()
    monkeypatch.undo()  # Redis is back
    again = browser.get(events_url(execution_id))  # the slot came back
    assert again.status_code == 200
    again.close()


def test_with_redis_down_a_finished_execution_s_stream_still_tells_its_end(browser, user, monkeypatch) -> None:
    execution_id = queued_execution(user)
    Execution.objects.filter(id=execution_id).update(status="failed")
    monkeypatch.setattr(events, "get_redis_connection", lambda alias: dead_redis())
    monkeypatch.setattr(stream_slots, "get_redis_connection", lambda alias: dead_redis())

    response = browser.get(events_url(execution_id))
    body = b"".join(response.streaming_content).decode()

    assert response.status_code == 200  # the cap is not counted while Redis is down
    last = body.split("\n\n")[-2].split("\n")
    assert last[0] == "event: execution"
    told = json.loads(last[1].removeprefix("data: "))
    assert (told["kind"], told["status"]) == ("execution", "failed") and told["at"] > 0


@pytest.mark.slow
def test_a_wait_takes_a_stream_slot_and_does_not_wait_without_one(browser, user, one_stream_each, make_workflow, run):
    """`wait` holds a web thread as a stream does: a client holding all its slots gets the
    202 at once instead of another thread held for a minute."""
    execution_id = queued_execution(user)
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])

    stream = browser.get(events_url(execution_id))  # the user's one slot
    started = time.monotonic()
    response = run(workflow_id, wait=3)  # no worker runs here: it would wait all 3 s
    assert (response.status_code, response.json()["status"]) == (202, "queued")
    assert time.monotonic() - started < 2
    stream.close()

    started = time.monotonic()
    assert run(workflow_id, wait=1).status_code == 202
    assert time.monotonic() - started >= 1  # with a slot free, it waited
    assert browser.get(events_url(execution_id)).status_code == 200  # and gave the slot back
