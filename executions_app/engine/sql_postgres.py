"""The engine's fused statements, PostgreSQL only: what takes two or three round trips
in sql.py (which also serves SQLite) takes one here, with CTEs over `UPDATE … RETURNING`.
The callers choose by `connection.vendor`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from executions_app.engine.sql import (
    _RECORD_OUTCOME,
    _UNINDEXED_STATUS,
    COUNT_DOWN,
    EXECUTION,
    NODE_RUN,
    _cursor,
    _dt,
    _joined,
    _node_row,
    _outcome_params,
    _uuid,
)


def claim_ready_and_fetch(
    node_run_id: int, *, now: datetime, ready_by: datetime, lease_until: datetime, holder: str
) -> dict | None:
    """PostgreSQL only: the claim of a ready pending node of an active execution and the
    fetch of fetch_node_row, in one statement (one round trip instead of two). None when
    the node is anything else (running, finished, not ready, execution over): the caller
    then takes the general path, which reads first and decides."""
    sql = (
        f"WITH c AS (UPDATE {NODE_RUN} SET status = 'running', attempts = attempts + 1, lease_until = %s, "
        "claimed_by = %s, started_at = COALESCE(started_at, %s) "
        f"WHERE id = %s AND {_UNINDEXED_STATUS} = 'pending' AND ready_at <= %s AND ("
        f"SELECT x.status FROM {EXECUTION} x WHERE x.id = execution_id) IN ('queued', 'running') "
        "RETURNING execution_id, node_id, status, attempts, attempt_log, claimed_by) "
        "SELECT c.execution_id, c.node_id, c.status, c.attempts, c.attempt_log, c.claimed_by, false, "
        "e.status, e.owner_id, e.inputs, e.version_id, e.workflow_id, e.deadline_at "
        f"FROM c {_joined('c')}"
    )
    params = [_dt(lease_until), holder, _dt(now), node_run_id, _dt(ready_by)]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return None if found is None else _node_row(found)


def count_down_and_record(
    execution_id: Any,
    node_run_id: int,
    attempt: int,
    *,
    status: str,
    output: Any,
    error: Any,
    attempt_log: list,
    now: datetime,
) -> tuple[str, int, bool]:
    """PostgreSQL only: count_down_remaining and record_outcome in one statement. The node
    update reads the execution update's result, so the execution row is always locked
    first, in the same order as every other completion."""
    sql = (
        f"WITH e AS ({COUNT_DOWN}), "
        f"n AS ({_RECORD_OUTCOME} AND EXISTS (SELECT 1 FROM e) RETURNING 1) "
        "SELECT e.status, e.remaining_nodes, (SELECT count(*) FROM n) FROM e"
    )
    params = [_uuid(execution_id), *_outcome_params(node_run_id, attempt, status, output, error, attempt_log, now)]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:  # the execution was pruned meanwhile
        return "canceled", 0, False
    execution_status, remaining, written = found
    return execution_status, remaining, written == 1


def record_and_release(
    execution_id: Any,
    node_run_id: int,
    attempt: int,
    children: tuple[str, ...],
    *,
    status: str,
    output: Any,
    error: Any,
    attempt_log: list,
    now: datetime,
) -> tuple[str, int, bool, list[tuple[int, str]]]:
    """PostgreSQL only, for a completed node whose edges out are all unbranched
    (Graph.straight_children): the whole completion in one statement, no transaction
    around it. Locks the execution's row first (as every completion does), writes the
    fenced result, counts the node out only when the result was written, and, while the
    execution is active, resolves and takes its edge into each child: a child brought to
    zero unresolved parents is ready (this edge was taken), and the one update that does
    so returns it, so a join is released once. Returns the execution's status and
    remaining count, whether the result was written, and the children made ready as
    (node run id, node id)."""
    marks = ", ".join(["%s"] * len(children))
    sql = (
        f"WITH x AS (SELECT status FROM {EXECUTION} WHERE id = %s FOR UPDATE), "
        f"n AS ({_RECORD_OUTCOME} AND EXISTS (SELECT 1 FROM x) RETURNING 1), "
        f"e AS (UPDATE {EXECUTION} SET remaining_nodes = remaining_nodes - 1 WHERE id = %s "
        "AND EXISTS (SELECT 1 FROM n) RETURNING status, remaining_nodes), "
        f"r AS (UPDATE {NODE_RUN} SET pending_parents = pending_parents - 1, taken_parents = taken_parents + 1, "
        "ready_at = CASE WHEN pending_parents = 1 THEN %s ELSE ready_at END "
        f"WHERE execution_id = %s AND node_id IN ({marks}) AND pending_parents > 0 "
        f"AND {_UNINDEXED_STATUS} = 'pending' AND EXISTS (SELECT 1 FROM e WHERE e.status IN ('queued', 'running')) "
        "RETURNING id, node_id, pending_parents) "
        "SELECT x.status, e.status, e.remaining_nodes, r.id, r.node_id, r.pending_parents FROM x "
        "LEFT JOIN e ON true LEFT JOIN r ON true"
    )
    execution = _uuid(execution_id)
    params = [
        execution,
        *_outcome_params(node_run_id, attempt, status, output, error, attempt_log, now),
        execution,
        _dt(now),
        execution,
        *children,
    ]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:  # the execution was pruned meanwhile
        return "canceled", 0, False, []
    seen_status, execution_status, remaining, *_ = rows[0]
    if execution_status is None:  # the attempt lost its claim: nothing was written
        return seen_status, 0, False, []
    ready = [(run_id, node_id) for *_, run_id, node_id, pending in rows if run_id and pending == 0]
    return execution_status, remaining, True, ready


def complete_execution(execution_id: Any, output_node_ids: tuple[str, ...], now: datetime) -> dict | None:
    """PostgreSQL only: gathers the OUTPUT nodes' results into the execution's outputs and
    completes it in one statement. Returns what the monitoring counters need."""
    marks = ", ".join(["%s"] * len(output_node_ids))
    sql = (
        f"UPDATE {EXECUTION} SET status = 'completed', remaining_nodes = 0, finished_at = %s, outputs = ("
        f"SELECT COALESCE(jsonb_object_agg(node_id, output), '{{}}'::jsonb) FROM {NODE_RUN} "
        f"WHERE execution_id = %s AND node_id IN ({marks}) AND status = 'completed') "
        "WHERE id = %s RETURNING owner_id, workflow_id, started_at"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [_dt(now), _uuid(execution_id), *output_node_ids, _uuid(execution_id)])
        found = cursor.fetchone()
    return None if found is None else dict(zip(("owner_id", "workflow_id", "started_at"), found, strict=True))
