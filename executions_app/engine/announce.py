"""What the engine tells the world after a commit: the status cache (DESIGN §8), the
event stream (the events API) and the monitoring counters (DESIGN §9)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard_app import counters
from executions_app import events, status_cache
from executions_app.models import Execution


def execution_status_changed(
    execution_id: Any,
    status: str,
    now: Any,
    node_events: list[dict] | None = None,
    *,
    finished_row: dict | None = None,
) -> None:
    """After commit: cache the new status, append the events, count a finished run.
    `finished_row` (owner_id, workflow_id, started_at), when the caller has it, saves
    reading the execution again."""
    finished = status in ("completed", "failed", "canceled")
    state = {"status": status, "finished_at": now.isoformat() if finished else None}

    def announce() -> None:
        status_cache.write_now(execution_id, state)
        # Node changes come before the execution's end, and after its start.
        execution = [events.execution_event(status)]
        nodes = node_events or []
        events.emit_now(execution_id, [*nodes, *execution] if finished else [*execution, *nodes])
        if finished:
            row = finished_row or (
                Execution.objects.filter(id=execution_id).values("owner_id", "workflow_id", "started_at").first()
            )
            if row:
                started = row["started_at"] or now
                counters.record_execution_finished(
                    owner_id=row["owner_id"],
                    workflow_id=row["workflow_id"],
                    status=status,
                    duration_ms=(now - started).total_seconds() * 1000,
                )

    transaction.on_commit(announce)
