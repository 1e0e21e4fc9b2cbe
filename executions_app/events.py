"""Status changes of an execution and its nodes, as a Redis stream per execution.

The engine appends after the transaction that made a change commits, in one pipeline;
the events API reads the stream (XREAD BLOCK) and resumes from Last-Event-ID. Streams
expire an hour after their last event. The database stays the truth: a reader starts
from a snapshot of it, so an event lost in a Redis outage hides nothing for long."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

from executions_app.models import FINISHED_EXECUTION_STATUSES, ExecutionStatus, NodeRunStatus

logger = logging.getLogger(__name__)

STREAM_TTL_S = 3600
STREAM_MAX_LEN = 10_000
# An execution's end is also written under a key of its own that nothing else writes,
# for `wait` (read_end): blocked on the whole stream, a waiter woke, and read the status,
# at every node's events, on the cores the workers run on (about 0.4 ms per node of a
# 20-node chain in the bench). It only has to outlive a wait's next block: a waiter
# checks the committed status before it blocks.
END_TTL_S = 300
# A Redis stream id: milliseconds, optionally "-" and a sequence number.
STREAM_ID = re.compile(r"\A([0-9]{1,20})(?:-([0-9]{1,20}))?\Z")


def stream_key(execution_id: Any) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:events:{execution_id}"


def end_key(execution_id: Any) -> str:
    return f"{stream_key(execution_id)}:end"


def node_event(node_id: str, status: str, **extra: Any) -> dict:
    """A node run's status change; `extra` is one of NODE_EVENT_SCHEMA's optional fields."""
    return {"kind": "node", "node_id": node_id, "status": status, **extra}


def execution_event(status: str, **extra: Any) -> dict:
    return {"kind": "execution", "status": status, **extra}


# An event's data as the OpenAPI publishes it (executions_app/apis.py): a change to the
# builders above changes these too. OpenAPI 3.0 and JSON Schema alike (no `nullable`).
_AT = {
    "type": "number",
    "description": "When the change committed, in Unix seconds with a fraction. In a snapshot told "
    "from the database: when the run finished or started (the execution: when it finished), "
    "else when the snapshot was read.",
}
NODE_EVENT_SCHEMA: dict[str, Any] = {
    "title": "NodeEvent",
    "type": "object",
    "description": "A node run changed status (`event: node`).",
    "properties": {
        "kind": {"type": "string", "enum": ["node"]},
        "node_id": {"type": "string", "description": "The node's id in the workflow's definition."},
        "status": {"type": "string", "enum": [s.value for s in NodeRunStatus]},
        "at": _AT,
        "attempt": {
            "type": "integer",
            "minimum": 1,
            "description": "On `running` from the worker that claimed the node: which attempt this is (1 the "
            "first). Absent from a snapshot.",
        },
        "retry_in_s": {
            "type": "number",
            "minimum": 0,
            "description": "On `pending` after a failed attempt: the backoff, in seconds, before the next attempt. "
            "On `waiting` for a retry's durable timer: the same.",
        },
        "waiting_on": {
            "type": "object",
            "description": "On `waiting`: what wakes the node, as the execution's `waiting_on` lists it: "
            "`kind` `timer` (with `until`), `child` (with `execution_id`) or `decision` (with `approval`).",
            "properties": {"kind": {"type": "string", "enum": ["timer", "child", "decision"]}},
            "required": ["kind"],
        },
        "woken_by": {
            "type": "string",
            "enum": ["timer", "child", "decision", "resume"],
            "description": "On `pending` after `waiting`: what woke the node. It runs again next.",
        },
    },
    "required": ["kind", "node_id", "status", "at"],
}
EXECUTION_EVENT_SCHEMA: dict[str, Any] = {
    "title": "ExecutionEvent",
    "type": "object",
    "description": "The execution changed status (`event: execution`). `completed`, `failed` and "
    "`canceled` are its end: the last event of the stream.",
    "properties": {
        "kind": {"type": "string", "enum": ["execution"]},
        "status": {"type": "string", "enum": [s.value for s in ExecutionStatus]},
        "at": _AT,
    },
    "required": ["kind", "status", "at"],
}
EVENT_SCHEMA: dict[str, Any] = {
    "description": "The `data` of one event: a JSON object, of the kind its `event:` line names. "
    "Events carry no error: a failed node's or execution's `error` is in GET /api/executions/{id}. "
    "Ignore fields not listed here: later versions may add some.",
    "oneOf": [NODE_EVENT_SCHEMA, EXECUTION_EVENT_SCHEMA],
}


def queue_events(pipe: Any, execution_id: Any, events: list[dict]) -> None:
    """Adds the appends of `events` to a Redis pipeline that someone else sends."""
    key = stream_key(execution_id)
    at = time.time()
    for event in events:
        # An event that carries its own `at` (sent later than it happened) keeps it.
        data = json.dumps({"at": at, **event})
        pipe.xadd(key, {"data": data}, maxlen=STREAM_MAX_LEN, approximate=True)
        if event.get("kind") == "execution" and event.get("status") in FINISHED_EXECUTION_STATUSES:
            end = end_key(execution_id)
            pipe.xadd(end, {"data": data}, maxlen=1)
            pipe.expire(end, END_TTL_S)
    pipe.expire(key, STREAM_TTL_S)


def emit_now(execution_id: Any, events: list[dict]) -> None:
    if not events:
        return
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        queue_events(pipe, execution_id, events)
        pipe.execute()
    except Exception:
        logger.warning("could not append execution events", exc_info=True)


def emit_after_commit(execution_id: Any, events: list[dict]) -> None:
    if events:
        transaction.on_commit(lambda: emit_now(execution_id, events))


def is_stream_id(value: str) -> bool:
    """True for an id XREAD accepts ("1764088000000-0", "0"): both parts fit 64 bits."""
    match = STREAM_ID.match(value)
    return match is not None and all(int(part) < 2**64 for part in match.groups() if part is not None)


def read(execution_id: Any, after: str, block_ms: int | None, count: int = 500) -> list[tuple[str, dict]]:
    """Events after stream id `after` ("0" for all), waiting up to block_ms for one
    (None: answers at once)."""
    reply = get_redis_connection("default").xread({stream_key(execution_id): after}, count=count, block=block_ms)
    found: list[tuple[str, dict]] = []
    for _, entries in reply or []:
        for event_id, fields in entries:
            found.append((event_id.decode(), json.loads(fields[b"data"])))
    return found


def read_end(execution_id: Any, block_ms: int) -> dict | None:
    """The execution's final event, waiting up to block_ms for it; None if none came."""
    reply = get_redis_connection("default").xread({end_key(execution_id): "0"}, count=1, block=block_ms)
    for _, entries in reply or []:
        for _, fields in entries:
            return json.loads(fields[b"data"])
    return None


def last(execution_id: Any) -> tuple[str, dict] | None:
    """The stream's newest event, or None when it is gone."""
    reply = get_redis_connection("default").xrevrange(stream_key(execution_id), count=1)
    return (reply[0][0].decode(), json.loads(reply[0][1][b"data"])) if reply else None


def id_after(event_id: str) -> str:
    """An id just past `event_id`, which no event of the stream has: given to a final event
    the database told, so a reconnect with it is known to have seen the end."""
    ms, _, seq = event_id.partition("-")
    return f"{ms}-{int(seq or 0) + 1}"


def id_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def any_after(execution_id: Any, after: str) -> bool:
    """Whether the stream holds an event newer than `after` (False when it is gone)."""
    return bool(read(execution_id, after, None, count=1))
