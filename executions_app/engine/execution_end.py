"""How an execution ends: completed (its OUTPUT nodes' results gathered), failed (a node
failed for good, or it ran out of time) or canceled. Every end runs inside the
transaction that decided it; what the world is told follows the commit (notify.py)."""

from __future__ import annotations

from typing import Any

from executions_app import events
from executions_app.engine import notify
from executions_app.engine.storage import storage
from executions_app.engine.wakes import request_wake
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionStatus, NodeRun, NodeRunStatus
from workflows_app.graph import Graph


def end_completed(execution_id: Any, graph: Graph, now: Any, node_events: list[dict[str, Any]]) -> None:
    """The last node is done: the execution completes with its OUTPUT nodes' results."""
    row = storage().end_completed(execution_id, graph.output_node_ids, now)
    if row and row.get("parent_id"):
        request_wake(row["parent_id"], row["parent_node_id"], "child")
    notify.execution_status_changed(execution_id, ExecutionStatus.COMPLETED, now, node_events, finished_row=row)


def end_failed(
    execution_id: Any,
    *,
    node_id: str | None,
    error: dict[str, Any],
    now: Any,
    node_events: list[dict[str, Any]] | None = None,
) -> None:
    """A node failed for good (or the execution ran out of time, node_id None)."""
    end_execution(
        execution_id, ExecutionStatus.FAILED, now, error={"node_id": node_id, **error}, node_events=node_events
    )


def end_execution(
    execution_id: Any,
    status: str,
    now: Any,
    *,
    error: dict[str, Any] | None = None,
    node_events: list[dict[str, Any]] | None = None,
) -> bool:
    """Ends an active execution as failed or canceled: nodes that never started, and those
    that wait, become canceled, and so do its running children (SUBWORKFLOW, MAP items);
    running nodes finish or reach their deadline, and their results are kept. A child's
    end wakes the parent node that waits on it. False when it had ended already."""
    changed = Execution.objects.filter(id=execution_id, status__in=ACTIVE_EXECUTION_STATUSES).update(
        status=status, error=error, finished_at=now
    )
    if not changed:
        return False
    # Children first: a child's own end locks its row, then its parent's node run; this
    # end takes the locks in that order too.
    for child_id in Execution.objects.filter(parent_id=execution_id, status__in=ACTIVE_EXECUTION_STATUSES).values_list(
        "id", flat=True
    ):
        canceled_child = {"code": "parent_ended", "message": "The parent execution ended first."}
        end_execution(child_id, ExecutionStatus.CANCELED, now, error=canceled_child)
    parent_id, parent_node_id = Execution.objects.values_list("parent_id", "parent_node_id").get(id=execution_id)
    if parent_id:
        request_wake(parent_id, parent_node_id, "child")
    never_started = NodeRun.objects.filter(
        execution_id=execution_id, status__in=(NodeRunStatus.PENDING, NodeRunStatus.WAITING)
    )
    canceled = list(never_started.values_list("node_id", flat=True))
    never_started.update(status=NodeRunStatus.CANCELED, finished_at=now, wake_at=None)
    node_events = [*(node_events or []), *(events.node_event(n, NodeRunStatus.CANCELED) for n in canceled)]
    notify.execution_status_changed(execution_id, status, now, node_events)
    return True
