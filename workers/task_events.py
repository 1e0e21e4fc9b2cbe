"""How a node task whose node failed appears in Celery's task events, which Flower shows.

A node task returns normally whatever its node did: the engine records the node's
failure in the database, and the message is acknowledged like any other (acks_late).
Celery would report every such task as succeeded. So `workers.node_run` returns a
`FailedNode` when its node failed, and `NodeRunRequest`, the task's request in the
worker's main process, sends `task-failed` in place of `task-succeeded` for it. Nothing
else changes: the acknowledgement, the worker's counters and its logs are Celery's, no
exception is raised and no result is stored.

Celery hands the main process only the repr of a task's return value, so that repr is
the signal: `node failed: <code>: <message>`."""

from __future__ import annotations

from typing import Any

from celery.worker.request import Request

FAILED = "node failed: "
# Celery cuts a return value's repr past 1024 characters; the error stays well inside.
MESSAGE_CHARS = 500


class FailedNode:
    """What `workers.node_run` returns when its node failed: the node's error."""

    __slots__ = ("text",)

    def __init__(self, error: dict[str, Any] | None) -> None:
        error = error or {}
        message = str(error.get("message") or "")
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        self.text = f"{error.get('code') or 'failed'}: {message}"

    def __repr__(self) -> str:
        return FAILED + self.text


class NodeRunRequest(Request):
    """A node task's request: a task that returned a `FailedNode` is reported as failed,
    with the node's error as its exception and no traceback (it is not a crash)."""

    def send_event(self, event_type: str, **fields: Any) -> None:
        if event_type == "task-succeeded":
            result = fields.get("result")
            if isinstance(result, str) and result.startswith(FAILED):
                event_type = "task-failed"
                fields = {"exception": result, "traceback": "", "runtime": fields.get("runtime")}
        super().send_event(event_type, **fields)
