"""Server-sent events of an execution's status changes (GET /api/executions/{id}/events).

The stream ends when the execution ends, or after settings.SWITCHBOARD["EVENTS_MAX_S"]
(env SWITCHBOARD_EVENTS_MAX_S, 300 s by default); a client reconnecting with
Last-Event-ID resumes after that event. EventSource reconnects even after a clean end: a
reconnect to a finished execution with nothing newer than its Last-Event-ID is answered
204, which makes EventSource stop. While nothing happens a comment line goes out every
KEEPALIVE_S. Each open stream holds one gunicorn thread, so the gthread workers keep
serving other requests beside it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework.renderers import BaseRenderer

from config.api import ValidationFailed
from executions_app import events
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution

logger = logging.getLogger(__name__)

# Well under the 30-60 s after which proxies and load balancers drop an idle connection;
# a loop turn takes about BLOCK_MS, so the gap stays below 15 s.
KEEPALIVE_S = 10
# Below the cache connection's socket timeout: a blocked read must not look like an outage.
BLOCK_MS = 800
# The final event is appended just after the commit that ended the execution: a stream
# that sees the end in the database waits this long for it, then says it without an id.
FINAL_EVENT_GRACE_S = 2.0


class EventStreamRenderer(BaseRenderer):
    """Lets content negotiation accept `Accept: text/event-stream`; the stream itself is a
    StreamingHttpResponse and errors are rendered as JSON by the view."""

    media_type = "text/event-stream"
    format = "event-stream"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode()


def resume_point(last_event_id: str | None) -> str | None:
    """The stream id a reconnecting client saw last, or None for a first connection.
    ValidationFailed (400) for a value XREAD would refuse after the headers went out."""
    value = (last_event_id or "").strip()
    if not value:
        return None
    if not events.is_stream_id(value):
        raise ValidationFailed(
            "Last-Event-ID must be the id of an event of this stream, like 1764088000000-0.",
            details={"Last-Event-ID": ["Not a stream event id."]},
        )
    return value


def already_ended_for(execution: Execution, after: str | None) -> bool:
    """A reconnect after the end: the execution finished and the client has seen every
    event there is (or the stream expired). Such a request is answered 204."""
    if after is None or execution.status not in FINISHED_EXECUTION_STATUSES:
        return False
    try:
        return not events.any_after(execution.id, after)
    except Exception:  # Redis unreachable: a 204 beats a stream that fails mid-way
        logger.warning("could not read execution events", exc_info=True)
        return True


def frame(event_id: str | None, event: dict) -> str:
    # A frame without an id leaves the client's Last-Event-ID where it was.
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event['kind']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def snapshot(execution: Execution) -> Iterator[str]:
    """The current state from the database, for a stream that expired or was lost."""
    for run in execution.node_runs.all():
        yield frame("0-0", events.node_event(run.node_id, run.status))
    yield frame("0-0", events.execution_event(execution.status))


def stream(execution: Execution, after: str | None, max_s: float | None = None) -> Iterator[str]:
    """Events after stream id `after` (validated by resume_point) until the execution's
    final event, or max_s (default settings.SWITCHBOARD["EVENTS_MAX_S"])."""
    if max_s is None:
        max_s = settings.SWITCHBOARD["EVENTS_MAX_S"]
    yield "retry: 2000\n\n"
    after = after or "0"
    deadline = time.monotonic() + max_s
    last_sent = time.monotonic()
    finished_seen: float | None = None
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
            finished_seen = finished_seen or time.monotonic()
            if time.monotonic() - finished_seen >= FINAL_EVENT_GRACE_S:
                yield frame(None, events.execution_event(status))  # the final event was lost
                return
        if time.monotonic() - last_sent >= KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
