"""Waking a waiting node: it goes back to `pending`, ready now, and its task is published
after the commit; the claim that follows runs it again (engine/claim.py) as a resume, so
a wake never uses up a retry (NodeRun.resumes).

Every wake is one conditional update on a `waiting` row, so a timer found by two clocks,
a child that ends while the parent is canceled, or two decisions at once wake the node
once. A wake decided from an earlier read (a decision) is fenced by the claim count it
read (`generation`): it cannot wake a later wait of the same node.

Three things wake a node: its wake_at passing (the timer loop, wake_due), a child
execution ending (request_wake, which a node still running sees as a wake_at already
due when it suspends), and a decision (wake_node with the state it adds)."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from executions_app import events
from executions_app.engine.publish import Publish, publish_for, publish_now, publish_on_commit
from executions_app.engine.storage.statements import EXECUTION, NODE_RUN, adapt_datetime
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, NodeRun, NodeRunStatus
from workflows_app.selectors import graph_for_version

# What a wake writes: ready now, no timer, the wait's reason kept until the run clears it.
_WAKE = {"status": NodeRunStatus.PENDING, "wake_at": None}


def _publishes(rows: list[tuple[int, str, Any]]) -> list[Publish]:
    """The node tasks of woken rows (id, node id, execution id)."""
    versions = dict(
        Execution.objects.filter(id__in={execution_id for *_, execution_id in rows}).values_list("id", "version_id")
    )
    return [
        publish_for(run_id, graph_for_version(versions[execution_id]).nodes[node_id], execution_id)
        for run_id, node_id, execution_id in rows
        if execution_id in versions
    ]


def wake_node(node_run_id: int, *, generation: int | None = None, state: Any = ..., reason: str = "") -> bool:
    """Wakes one waiting node of an active execution, in the caller's transaction (or its
    own); its task goes out after the commit. `generation`: the claim count the caller
    read (NodeRun.attempts), so a stale wake does nothing; `state`: replaces what the
    node saved (a decision adds itself to it). False when the node was not waiting
    (woken already, canceled) or the generation moved on."""
    now = timezone.now()
    rows = NodeRun.objects.filter(
        id=node_run_id, status=NodeRunStatus.WAITING, execution__status__in=ACTIVE_EXECUTION_STATUSES
    )
    if generation is not None:
        rows = rows.filter(attempts=generation)
    changes: dict[str, Any] = {**_WAKE, "ready_at": now}
    if state is not ...:
        changes["state"] = state
    with transaction.atomic():
        if not rows.update(**changes):
            return False
        run_id, node_id, execution_id = NodeRun.objects.values_list("id", "node_id", "execution_id").get(id=node_run_id)
        woken = events.node_event(node_id, NodeRunStatus.PENDING, woken_by=reason) if reason else None
        publish_on_commit(_publishes([(run_id, node_id, execution_id)]), (execution_id, [woken] if woken else []))
    return True


def request_wake(execution_id: Any, node_id: str, reason: str) -> None:
    """Something a node waits on happened (its child execution ended): a waiting node is
    woken now; a running one has wake_at set to now, so that the suspension it writes
    next comes straight back (engine/suspension.py) and no end is missed. Runs in the
    caller's transaction."""
    # The row is locked until this commits: a node woken and not yet claimed is claimed
    # only then, so its run reads this end; nor can its status change between the read
    # and the write below.
    found = (
        NodeRun.objects.select_for_update(no_key=True)
        .filter(execution_id=execution_id, node_id=node_id)
        .values_list("id", "status")
        .first()
    )
    if found is None:
        return
    node_run_id, status = found
    if status == NodeRunStatus.WAITING:
        wake_node(node_run_id, reason=reason)
    elif status == NodeRunStatus.RUNNING:
        # The suspension it writes next keeps this and comes straight back.
        NodeRun.objects.filter(id=node_run_id).update(wake_at=timezone.now())


def next_wake_at() -> Any:
    """When the earliest waiting node is due (the timer loop sleeps until then), or None."""
    return (
        NodeRun.objects.filter(status=NodeRunStatus.WAITING, wake_at__isnull=False)
        .order_by("wake_at")
        .values_list("wake_at", flat=True)
        .first()
    )


def wake_due(now: Any, batch: int) -> int:
    """The timer loop's step: wakes up to `batch` waiting nodes whose wake_at has passed,
    in one statement (on PostgreSQL, rows another clock is waking are skipped, not waited
    for), and publishes them. Returns how many it woke."""
    skip_locked = " FOR UPDATE OF nr SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {NODE_RUN} SET status = 'pending', wake_at = NULL, ready_at = %s WHERE id IN ("
        f"SELECT nr.id FROM {NODE_RUN} nr JOIN {EXECUTION} e ON e.id = nr.execution_id "
        "WHERE nr.status = 'waiting' AND nr.wake_at <= %s AND e.status IN ('queued', 'running') "
        f"ORDER BY nr.wake_at LIMIT %s{skip_locked}) AND status = 'waiting' "
        "RETURNING id, node_id, execution_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [adapt_datetime(now), adapt_datetime(now), batch])
        to_uuid = Execution._meta.pk.to_python
        rows = [(run_id, node_id, to_uuid(execution_id)) for run_id, node_id, execution_id in cursor.fetchall()]
    if rows:
        by_execution: dict[Any, list[dict[str, Any]]] = {}
        for _, node_id, execution_id in rows:
            by_execution.setdefault(execution_id, []).append(
                events.node_event(node_id, NodeRunStatus.PENDING, woken_by="timer")
            )
        for execution_id, node_events in by_execution.items():
            events.emit_now(execution_id, node_events)
        publish_now(_publishes(rows))
    return len(rows)
