"""Why an execution is not moving: its waiting nodes' `waiting_on`, for the API, the admin
and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from executions_app.models import NodeRun, NodeRunStatus

# The JSON Schema of one entry (the OpenAPI and the docs).
WAITING_ON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["timer", "child", "decision"]},
        "node_id": {"type": "string"},
        "until": {"type": "string", "format": "date-time"},
        "execution_id": {"type": "string", "format": "uuid"},
        "approval": {"type": "string"},
        "retry": {"type": "boolean", "description": "A retry's backoff, waiting as a durable timer."},
    },
    "required": ["kind", "node_id"],
}


def waiting_on(runs: Iterable[NodeRun]) -> list[dict[str, Any]]:
    """One entry per waiting node run, in node order (`runs` as read, usually prefetched)."""
    return [
        {**run.waiting_on, "node_id": run.node_id}
        for run in runs
        if run.status == NodeRunStatus.WAITING and isinstance(run.waiting_on, dict)
    ]
