"""GET /api/executions/{id}/events around its edges: a bad Last-Event-ID, a reconnect
after the end, keep-alives, the cap, errors as JSON (no worker: events are appended by hand)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace

import pytest
from django.test import Client

from executions_app import event_stream, events
from executions_app.models import Execution
from tests.support.definitions import edge, input_node, node
from tests.support.executions import SSE, events_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def execution_id(make_workflow, run) -> str:
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    return run(workflow_id, wait=None).json()["id"]  # stays queued: no worker


def stream_ids(execution_id: str) -> list[str]:
    return [event_id for event_id, _ in events.read(execution_id, "0", None)]


def finish(execution_id: str) -> str:
    """Ends the execution as the engine would, final event included; returns its id."""
    Execution.objects.filter(id=execution_id).update(status="completed")
    events.emit_now(execution_id, [events.execution_event("completed")])
    return stream_ids(execution_id)[-1]


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


MALFORMED_LAST_EVENT_IDS = ["abc", "1-2-3", "1764088000000-", "-1", "99999999999999999999-0", "١٢٣"]


@pytest.mark.parametrize("bad", MALFORMED_LAST_EVENT_IDS)
def test_a_malformed_last_event_id_is_a_400_in_json(browser, execution_id, bad) -> None:
    response = browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=bad)

    assert_json_error(response, 400, "validation_error")
    assert "Last-Event-ID" in response.json()["error"]["details"]


def test_the_schema_gives_last_event_id_the_form_the_stream_takes(execution_id) -> None:
    operation = Client().get("/api/schema", {"format": "json"}).json()["paths"]["/api/executions/{id}/events"]["get"]
    header = next(p for p in operation["parameters"] if p["name"] == "Last-Event-ID")
    documented = re.compile(header["schema"]["pattern"])

    assert all(documented.search(event_id) for event_id in [*stream_ids(execution_id), "0", "1764088000000-0"])
    assert not any(documented.search(bad) for bad in MALFORMED_LAST_EVENT_IDS)


def test_errors_are_json_even_when_the_client_accepts_only_event_streams(execution_id) -> None:
    from tests.support.factories import UserFactory

    stranger = Client(HTTP_ACCEPT=SSE)
    stranger.force_login(UserFactory())
    assert_json_error(stranger.get(events_url(execution_id)), 404, "not_found")
    anonymous = Client(HTTP_ACCEPT=SSE).get(events_url(execution_id))
    assert anonymous["Content-Type"] == "application/json"
    assert anonymous.status_code in (401, 403)
    assert_json_error(Client(HTTP_ACCEPT="text/html").get(events_url(execution_id)), 406, "not_acceptable")


def test_a_reconnect_after_the_end_is_a_204_so_event_source_stops(browser, execution_id) -> None:
    final_id = finish(execution_id)

    response = browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=final_id)

    assert response.status_code == 204


def test_a_reconnect_after_the_stream_expired_is_a_204(browser, execution_id, settings) -> None:
    finish(execution_id)
    seen = stream_ids(execution_id)[0]
    events.get_redis_connection("default").delete(events.stream_key(execution_id))

    assert browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=seen).status_code == 204


def test_a_reconnect_before_the_end_gets_the_rest_and_the_stream_ends(browser, execution_id) -> None:
    queued_id = stream_ids(execution_id)[0]
    final_id = finish(execution_id)
    started = time.monotonic()

    response = browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=queued_id)
    body = b"".join(response.streaming_content).decode()

    assert response.status_code == 200
    assert f"id: {final_id}\n" in body
    assert f"id: {queued_id}\n" not in body
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_a_client_whose_final_event_was_lost_is_told_the_end_then_stops(browser, execution_id, monkeypatch) -> None:
    monkeypatch.setattr(event_stream, "FINAL_EVENT_GRACE_S", 0.2)
    queued_id = stream_ids(execution_id)[0]
    Execution.objects.filter(id=execution_id).update(status="failed")  # its final event never appended

    # A reconnect after the last event there is: not a 204, since the client never saw the end.
    response = browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=queued_id)
    assert response.status_code == 200
    final = b"".join(response.streaming_content).decode().split("\n\n")[-2]
    told_id = final.split("\n")[0].removeprefix("id: ")
    assert final.split("\n")[1] == "event: execution"
    assert '"status":"failed"' in final and '"at":' in final
    assert told_id not in stream_ids(execution_id) and told_id > queued_id
    # With the id of that frame, the next reconnect is the 204 that stops EventSource.
    assert browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=told_id).status_code == 204


@pytest.mark.slow
def test_an_idle_stream_sends_keep_alives_and_ends_at_the_configured_cap(
    browser, execution_id, settings, monkeypatch
) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, events_max_s=2.5)
    monkeypatch.setattr(event_stream, "KEEPALIVE_S", 0.5)
    started = time.monotonic()

    response = browser.get(events_url(execution_id), HTTP_LAST_EVENT_ID=stream_ids(execution_id)[0])
    body = b"".join(response.streaming_content).decode()

    assert response.status_code == 200
    assert body.count(": keep-alive\n\n") >= 2
    assert 2.5 <= time.monotonic() - started < 6


def test_the_default_keep_alive_interval_is_below_15_seconds() -> None:
    # A loop turn blocks at most BLOCK_MS, so the gap between two lines stays under 15 s.
    assert event_stream.KEEPALIVE_S + event_stream.BLOCK_MS / 1000 < 15


def test_a_wait_sleeps_through_node_events_and_wakes_at_the_end(execution_id, monkeypatch) -> None:
    from django.db import connection

    from executions_app import selectors

    status_reads: list[str] = []
    real_status = selectors.execution_status
    monkeypatch.setattr(selectors, "execution_status", lambda eid: status_reads.append(eid) or real_status(eid))
    outcome: dict[str, float | bool] = {}

    def wait() -> None:
        try:
            outcome["since"] = time.monotonic()
            outcome["finished"] = selectors.execution_wait(execution_id, 10)
            outcome["at"] = time.monotonic()
        finally:
            connection.close()

    waiter = threading.Thread(target=wait)
    waiter.start()
    for i in range(20):  # a 20-node run's events, as the engine appends them
        events.emit_now(execution_id, [events.node_event(f"n{i}", "running"), events.node_event(f"n{i}", "completed")])
        time.sleep(0.01)
    assert waiter.is_alive(), "the wait ended before the execution did"
    ended = time.monotonic()
    finish(execution_id)
    waiter.join(5)

    assert outcome["finished"] is True
    assert outcome["at"] - ended < 0.5  # woken by the end, not by a timeout
    # Its node events woke nobody: the status was read before each block only (one block
    # lasts WAIT_BLOCK_MS; before, every node's events woke it and it read the status).
    blocks = 1 + int((outcome["at"] - outcome["since"]) * 1000 // selectors.WAIT_BLOCK_MS)
    assert len(status_reads) <= blocks < 20
