"""Server-sent events of an execution's status changes (GET /api/executions/{id}/events).

The stream ends when the execution ends, or after settings.SWITCHBOARD.events_max_s
(env SWITCHBOARD_EVENTS_MAX_S, 300 s by default); a client reconnecting with
Last-Event-ID resumes after that event. EventSource reconnects even after a clean end: a
reconnect to a finished execution with nothing newer than its Last-Event-ID is answered
204, which makes EventSource stop. While nothing happens a comment line goes out every
KEEPALIVE_S. Each open stream holds one of the web tier's threads, so the others keep
serving other requests beside it; a user may hold at most
settings.SWITCHBOARD.events_max_streams_per_user streams at once (429 past that; stream_slots.py), so
one client cannot take every thread. If Redis fails mid-stream the stream ends with a
comment (or the final status from the database) instead of breaking off."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.renderers import BaseRenderer

from core.api import ValidationFailed
from executions_app import events
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution
from executions_app.stream_slots import StreamSlot

logger = logging.getLogger(__name__)

# Well under the 30-60 s after which proxies and load balancers drop an idle connection;
# a loop turn takes about BLOCK_MS, so the gap stays below 15 s.
KEEPALIVE_S = 10
# Below the cache connection's socket timeout: a blocked read must not look like an outage.
BLOCK_MS = 800
# The final event is appended just after the commit that ended the execution: a stream
# that sees the end in the database waits this long for it, then says it without an id.
FINAL_EVENT_GRACE_S = 2.0
# Redis failed mid-stream: the client's EventSource waits this long before reconnecting.
REDIS_LOST_RETRY_MS = 10_000


# The 200's description in the OpenAPI, whose schema (events.EVENT_SCHEMA) can describe
# only one event's data: what the stream is made of, and how it ends.
STREAM_DESCRIPTION = f"""Server-sent events, one per status change, in the order the changes committed.
Each event is three lines and a blank line:

    id: 1764088000123-0
    event: node
    data: {{"at":1764088000.123,"kind":"node","node_id":"fetch","status":"running","attempt":1}}

`event` is the data's `kind` (`node` or `execution`); `data` is one JSON object, described by
this response's schema. Reconnect with `Last-Event-ID` set to the last `id` seen to resume
after it. Other lines: `retry: <ms>` (how long a client waits before reconnecting; the stream
opens with `retry: 2000`), and comments, which start with `:` and carry no event (`: keep-alive`
every {KEEPALIVE_S} s while nothing happens).

The server closes the stream after the execution's end, the `execution` event with status
`completed`, `failed` or `canceled`; or after SWITCHBOARD_EVENTS_MAX_S (300 s by default),
and the client reconnects to resume. An ended execution whose stream expired (an hour after
its last event) is told from the database instead, and the stream ends: one `node` event per
node run, then the `execution` event, each with `id: 0-0`. If Redis fails mid-stream the
stream ends with `retry: {REDIS_LOST_RETRY_MS}` and either the final `execution` event without
an `id` (the execution had ended) or a comment."""


class HeldStream:
    """A stream's frames holding its slot. The slot goes back when the frames run out,
    when the client has left (`departed`, set by the web tier: core/wsgi_on_asgi.py; it
    is looked at before each frame, so at the latest at the next keep-alive), or when the
    server closes the response. Django's StreamingHttpResponse passes the close on even
    if iteration never started (a generator's own `finally` would not run then)."""

    def __init__(self, frames: Generator[str, None, None], slot: StreamSlot, departed: threading.Event | None = None):
        self.frames, self.slot, self.departed = frames, slot, departed

    def __iter__(self) -> HeldStream:
        return self

    def __next__(self) -> str:
        if self.departed is not None and self.departed.is_set():
            self.close()
            raise StopIteration
        try:
            return next(self.frames)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            self.frames.close()  # GeneratorExit inside stream()
        finally:
            self.slot.release()


def open_stream(
    *, user_id: Any, execution: Execution, after: str | None, departed: threading.Event | None = None
) -> HeldStream:
    """The stream of `execution` after `after`, counted against the user's cap
    (TooManyStreams, 429, past it); it ends once `departed` is set."""
    slot = StreamSlot.acquire(user_id)
    return HeldStream(stream(execution, after, slot=slot), slot, departed)


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
    """A reconnect after the end: the execution finished and the client has seen its final
    event (the stream's, or one the database told with an id past the stream's), or the
    stream expired. Such a request is answered 204. A client whose final event was lost
    gets a stream instead, which tells it."""
    if after is None or execution.status not in FINISHED_EXECUTION_STATUSES:
        return False
    try:
        if events.any_after(execution.id, after):
            return False
        newest = events.last(execution.id)
    except Exception:  # Redis unreachable: the stream answers with the database's status
        logger.warning("could not read execution events", exc_info=True)
        return False
    if newest is None:
        return True
    newest_id, event = newest
    final = event.get("kind") == "execution" and event.get("status") in FINISHED_EXECUTION_STATUSES
    return final or events.id_key(after) > events.id_key(newest_id)


def frame(event_id: str | None, event: dict) -> str:
    # A frame without an id leaves the client's Last-Event-ID where it was.
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event['kind']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _at(moment: Any) -> float:
    return moment.timestamp() if moment is not None else time.time()


def snapshot(execution: Execution) -> Iterator[str]:
    """The current state from the database, for a stream that expired or was lost."""
    for run in execution.node_runs.all():
        extra = {"waiting_on": run.waiting_on} if run.status == "waiting" and run.waiting_on else {}
        at = _at(run.finished_at or run.started_at)
        yield frame("0-0", events.node_event(run.node_id, run.status, at=at, **extra))
    yield frame("0-0", events.execution_event(execution.status, at=_at(execution.finished_at)))


def final_from_database(execution_id: Any) -> dict | None:
    """The execution's final event as the database tells it, or None while it runs."""
    found = Execution.objects.filter(id=execution_id).values_list("status", "finished_at").first()
    if found is None or found[0] not in FINISHED_EXECUTION_STATUSES:
        return None
    return events.execution_event(found[0], at=_at(found[1]))


def redis_lost(execution: Execution) -> Iterator[str]:
    """The last frame of a stream whose Redis failed: the final status if the database has
    it, else a comment and a longer reconnect delay (Last-Event-ID stays where it was)."""
    final = final_from_database(execution.id)
    if final is not None:
        yield f"retry: {REDIS_LOST_RETRY_MS}\n\n"
        yield frame(None, final)
    else:
        yield f"retry: {REDIS_LOST_RETRY_MS}\n: live events are unavailable for now, reconnect later\n\n"


def stream(
    execution: Execution, after: str | None, max_s: float | None = None, slot: StreamSlot | None = None
) -> Generator[str, None, None]:
    """Events after stream id `after` (validated by resume_point) until the execution's
    final event, or max_s (default settings.SWITCHBOARD.events_max_s). `slot` is
    renewed while it runs."""
    if max_s is None:
        max_s = settings.SWITCHBOARD.events_max_s
    yield "retry: 2000\n\n"
    after = after or "0"
    deadline = time.monotonic() + max_s
    last_sent = time.monotonic()
    finished_seen: float | None = None
    while time.monotonic() < deadline:
        if slot is not None:
            slot.renew()
        try:
            batch = events.read(execution.id, after, BLOCK_MS)
        except RedisError:
            logger.warning("live events stream lost Redis; ending it", exc_info=True)
            yield from redis_lost(execution)
            return
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
            final = None
            if time.monotonic() - finished_seen >= FINAL_EVENT_GRACE_S:
                final = final_from_database(execution.id)
            if final is not None:  # the final event was lost: told, with an id no event has
                yield frame(events.id_after(after), final)
                return
        if time.monotonic() - last_sent >= KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
