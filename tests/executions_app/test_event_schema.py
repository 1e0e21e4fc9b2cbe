"""The event stream as the OpenAPI publishes it: every frame of real runs (a real worker,
a skipped branch, a retried attempt, a failed node, a failed and a completed end, and the
snapshot of an expired stream) is checked against the schema /api/schema serves."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import jsonschema
import pytest
from django.test import Client

from development.embedded_redis import free_port
from executions_app import events
from tests.support.definitions import edge, input_node, node
from tests.support.executions import SSE, events_url, nodes_by_id, status_of
from tests.support.http_server import allow

pytestmark = pytest.mark.django_db(transaction=True)


def published_event_schema() -> dict[str, Any]:
    """The schema of one event's `data`, as GET /api/schema publishes it."""
    schema = Client().get("/api/schema", {"format": "json"}).json()
    operation = schema["paths"]["/api/executions/{id}/events"]["get"]
    return operation["responses"]["200"]["content"][SSE]["schema"]


def exact(schema: dict[str, Any]) -> dict[str, Any]:
    """The published schema with no field beyond those it names: the published one lets
    clients ignore fields added later, this one makes a field the docs miss fail here."""
    closed = copy.deepcopy(schema)
    for kind in closed["oneOf"]:
        kind["additionalProperties"] = False
    return closed


def frames(client: Client, execution_id: str, last_event_id: str | None = None) -> list[dict[str, str]]:
    """The stream read to its end, one dict of fields per frame (a comment line's text
    under ":")."""
    headers = {"HTTP_LAST_EVENT_ID": last_event_id} if last_event_id else {}
    body: list[str] = []

    def read() -> None:
        response = client.get(events_url(execution_id), HTTP_ACCEPT=SSE, **headers)
        assert response.status_code == 200
        body.append(b"".join(response.streaming_content).decode())

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=30)
    assert body, "the stream did not end"
    assert body[0].endswith("\n\n")
    found = []
    for block in body[0].removesuffix("\n\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            assert name not in fields, block
            fields[name] = value
        found.append(fields)
    return found


def event_data(frame_list: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The data of every event frame, each frame checked to be one the docs describe."""
    data = []
    for fields in frame_list:
        if set(fields) <= {"retry", ""}:  # a reconnect delay and/or a comment
            assert fields.get("retry", "0").isdigit(), fields
            continue
        assert set(fields) in ({"id", "event", "data"}, {"event", "data"}), fields
        event = json.loads(fields["data"])
        assert fields["event"] == event["kind"]
        data.append(event)
    return data


@pytest.mark.worker_thread
def test_every_event_of_real_runs_matches_the_published_schema(
    celery_worker, make_workflow, run, user, auth_client, settings
) -> None:
    refused = free_port()  # nothing listens: each attempt fails with http_connection_failed, retryable
    allow(settings, f"127.0.0.1:{refused}")
    failing = make_workflow(
        [
            input_node(),
            node("check", "CONDITION", {"expression": "true"}),
            node(
                "call",
                "HTTP_REQUEST",
                {"method": "GET", "url": f"http://127.0.0.1:{refused}/"},
                retry={"max_attempts": 2, "backoff_s": 0.05, "max_backoff_s": 0.1},
            ),
            node("other", "TRANSFORM", {"value": 1}),
            node("result", "OUTPUT", {"value": "{{ nodes.call.output }}"}),
        ],
        [
            edge("start", "check"),
            edge("check", "call", "true"),
            edge("check", "other", "false"),
            edge("call", "result"),
        ],
    )
    completing = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    browser = Client()
    browser.force_login(user)
    schema = published_event_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(exact(schema))

    failed_id = run(failing, wait=None).json()["id"]
    failed = event_data(frames(browser, failed_id))
    completed_id = run(completing, wait=None).json()["id"]
    completed = event_data(frames(browser, completed_id))
    # Each stream ends with the execution's end, as documented.
    assert (failed[-1]["kind"], failed[-1]["status"]) == ("execution", "failed")
    assert (completed[-1]["kind"], completed[-1]["status"]) == ("execution", "completed")
    streamed = failed + completed
    # A stream that expired is told from the database, as a snapshot.
    events.get_redis_connection("default").delete(events.stream_key(failed_id))
    snapshot = event_data(frames(browser, failed_id))

    for event in streamed + snapshot:
        validator.validate(event)
    assert status_of(auth_client, failed_id)["status"] == "failed"
    assert nodes_by_id(status_of(auth_client, failed_id))["call"]["error"]["code"] == "http_connection_failed"
    # What was validated covers every kind, every status of a node, both ends and every optional field.
    seen = {(e["kind"], e["status"]) for e in streamed}
    node_statuses = {"pending", "running", "completed", "failed", "skipped", "canceled"}
    assert {status for kind, status in seen if kind == "node"} == node_statuses
    assert {("execution", s) for s in ("queued", "running", "failed", "completed")} <= seen
    assert any(e.get("attempt") == 2 for e in streamed)
    assert any("retry_in_s" in e for e in streamed)
    assert {(e["kind"], e.get("node_id"), e["status"]) for e in snapshot} >= {
        ("node", "call", "failed"),
        ("node", "result", "canceled"),
        ("execution", None, "failed"),
    }


@pytest.mark.parametrize(
    "event",
    [
        {"kind": "node", "node_id": "a", "status": "running", "at": "yesterday"},  # `at` is a number
        {"kind": "node", "status": "running", "at": 1.0},  # no node_id
        {"kind": "node", "node_id": "a", "status": "done", "at": 1.0},  # not a node status
        {"kind": "node", "node_id": "a", "status": "running", "at": 1.0, "attempt": "1"},
        {"kind": "node", "node_id": "a", "status": "pending", "at": 1.0, "retry_in_s": -1},
        {"kind": "execution", "status": "skipped", "at": 1.0},  # a node status, not an execution's
        {"kind": "execution", "at": 1.0},
        {"kind": "log", "status": "running", "at": 1.0},  # no such kind
        ["node", "a", "running"],
    ],
)
def test_a_malformed_event_is_refused_by_the_published_schema(event: Any) -> None:
    schema = published_event_schema()
    assert not jsonschema.Draft7Validator(schema).is_valid(event)
    # The same event made right passes: each case breaks one thing.
    fine = {"kind": "execution", "status": "running", "at": 1.0}
    assert jsonschema.Draft7Validator(schema).is_valid(fine)
