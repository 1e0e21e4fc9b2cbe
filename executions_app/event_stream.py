"""Server-sent events of an execution's status changes (GET /api/executions/{id}/events).

The stream ends when the execution ends, or after SWITCHBOARD_EVENTS_MAX_S (5 min); a
client reconnecting with Last-Event-ID resumes after that event. Each open stream holds
one gunicorn thread, so the gthread workers keep serving other requests beside it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from rest_framework.renderers import BaseRenderer

from executions_app import events
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution

MAX_STREAM_S = 300
KEEPALIVE_S = 15
# Below the cache connection's socket timeout: a blocked read must not look like an outage.
BLOCK_MS = 800


class EventStreamRenderer(BaseRenderer):
    media_type = "text/event-stream"
    format = "event-stream"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode()


def frame(event_id: str, event: dict) -> str:
    return f"id: {event_id}\nevent: {event['kind']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def snapshot(execution: Execution) -> Iterator[str]:
    """The current state from the database, for a stream that expired or was lost."""
    for run in execution.node_runs.all():
        yield frame("0-0", events.node_event(run.node_id, run.status))
    yield frame("0-0", events.execution_event(execution.status))


def stream(execution: Execution, last_event_id: str | None, max_s: float = MAX_STREAM_S) -> Iterator[str]:
    yield "retry: 2000\n\n"
    after = last_event_id or "0"
    deadline = time.monotonic() + max_s
    last_sent = time.monotonic()
    while time.monotonic() < deadline:
        batch = events.read(execution.id, after, BLOCK_MS)
        for event_id, event in batch:
            after = event_id
            yield frame(event_id, event)
            if event["kind"] == "execution" and event["status"] in FINISHED_EXECUTION_STATUSES:
                return
        if batch:
            last_sent = time.monotonic()
            continue
        status = Execution.objects.filter(id=execution.id).values_list("status", flat=True).first()
        if status in FINISHED_EXECUTION_STATUSES:
            if after == "0":  # nothing in the stream (expired, or Redis lost it): say where things stand
                execution.refresh_from_db()
                yield from snapshot(execution)
                return
            continue  # the final event may still be on its way; the deadline bounds the wait
        if time.monotonic() - last_sent > KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
