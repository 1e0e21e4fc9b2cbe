"""The engine's hot statements in plain SQL (PostgreSQL and SQLite alike).

Every node task runs these; building the same ORM queries each time cost more than the
database round trips themselves (see bench/RESULTS.md), so they are written once here.
Values are adapted through Django's own field and backend adapters. On PostgreSQL they
run on a server-side-binding cursor as prepared statements: parsing and planning the
claim cost more than executing it (0.25 ms against 0.1 ms). Django turns psycopg's
prepared statements off, which makes `prepare=True` a no-op; they are switched back on
while these statements run (_cursor; SWITCHBOARD_DB_PREPARED_STATEMENTS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from psycopg.errors import FeatureNotSupported

from executions_app.models import Execution, NodeRun
from workflows_app.models import Workflow, WorkflowVersion

NODE_RUN = NodeRun._meta.db_table
EXECUTION = Execution._meta.db_table
# Statements on one node run find it by primary key. Written plainly, `status = ...` lets
# the planner choose a status index instead whenever a table has no statistics yet (a new
# database): it then filters every pending row. The concatenation keeps it on the key.
_UNINDEXED_STATUS = "(status || '')"
_DEADLINE_FIELD = Execution._meta.get_field("deadline_at")
_JSON_FIELDS = {name: NodeRun._meta.get_field(name) for name in ("output", "error", "attempt_log")}


def _dt(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _uuid(value: Any) -> Any:
    return Execution._meta.pk.get_db_prep_value(value, connection)


def _json_param(field: str, value: Any) -> Any:
    return _JSON_FIELDS[field].get_db_prep_save(value, connection)


# Django opens psycopg connections with prepared statements off (prepare_threshold None),
# and psycopg then ignores prepare=True. They are switched on only while the engine's own
# statements run: on for the whole connection, psycopg would also count every ORM query,
# whose text carries its values (up to 100 per connection, inputs and definitions
# included). A threshold no query reaches: only what asks to be prepared is.
_ONLY_WHEN_ASKED = 2**31 - 1


class _PreparedCursor:
    """A psycopg cursor on Django's connection (its transaction, its adapters) whose
    statements the server prepares once per connection and then only executes."""

    def __init__(self, raw: Any):
        self._raw = raw

    def execute(self, sql: str, params: list) -> None:
        try:
            self._raw.execute(sql, params, prepare=True)
        except FeatureNotSupported:
            # "cached plan must not change result type": a migration changed a table under
            # a prepared statement. In a transaction, its rollback clears psycopg's cache;
            # outside one, the statement would fail on this connection until it closed.
            if not self._raw.connection.autocommit:
                raise
            self._raw.execute("DEALLOCATE ALL")  # psycopg forgets its prepared names too
            self._raw.execute(sql, params, prepare=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@contextmanager
def _cursor() -> Iterator[Any]:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw_connection = connection.connection
    previous = raw_connection.prepare_threshold
    if settings.SWITCHBOARD["ENGINE_PREPARED_STATEMENTS"]:
        raw_connection.prepare_threshold = _ONLY_WHEN_ASKED  # else prepare=True does nothing
    try:
        with connection.wrap_database_errors, psycopg.Cursor(raw_connection) as raw:
            yield _PreparedCursor(raw)
    finally:
        raw_connection.prepare_threshold = previous


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


_ROW_KEYS = (
    "execution_id",
    "node_id",
    "status",
    "attempts",
    "attempt_log",
    "claimed_by",
    "lease_expired",
    "execution__status",
    "execution__owner_id",
    "execution__inputs",
    "execution__version_id",
    "execution__workflow_id",
    "execution__deadline_at",
)


def _joined(node_alias: str) -> str:
    """The execution of node run `node_alias`, for FROM clauses. The workflow's name and
    the version's number are read only by a node that mentions them (workflow_identity):
    two more relations in the claim cost about 0.2 ms per node."""
    return f"JOIN {EXECUTION} e ON e.id = {node_alias}.execution_id"


def workflow_identity(workflow_id: Any, version_id: Any) -> tuple[str | None, int | None]:
    """The workflow's current name and the version's number."""
    sql = (
        f"SELECT (SELECT name FROM {Workflow._meta.db_table} WHERE id = %s), "
        f"(SELECT number FROM {WorkflowVersion._meta.db_table} WHERE id = %s)"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [_uuid(workflow_id), _uuid(version_id)])
        return cursor.fetchone()


def _node_row(found: tuple) -> dict:
    row = dict(zip(_ROW_KEYS, found, strict=True))
    row["attempt_log"] = _loads(row["attempt_log"])
    row["execution__inputs"] = _loads(row["execution__inputs"])
    row["lease_expired"] = bool(row["lease_expired"])
    deadline_at = _DEADLINE_FIELD.to_python(row["execution__deadline_at"])
    if deadline_at is not None and deadline_at.tzinfo is None:  # SQLite keeps UTC without an offset
        deadline_at = deadline_at.replace(tzinfo=UTC)
    row["execution__deadline_at"] = deadline_at
    for key in ("execution_id", "execution__version_id", "execution__workflow_id"):
        row[key] = Execution._meta.pk.to_python(row[key])
    return row


def fetch_node_row(node_run_id: int, now: datetime) -> dict | None:
    """The node run with what running it needs from its execution, version and workflow."""
    sql = (
        "SELECT nr.execution_id, nr.node_id, nr.status, nr.attempts, nr.attempt_log, nr.claimed_by, "
        "(nr.lease_until IS NOT NULL AND nr.lease_until < %s), e.status, e.owner_id, e.inputs, e.version_id, "
        f"e.workflow_id, e.deadline_at FROM {NODE_RUN} nr {_joined('nr')} WHERE nr.id = %s"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [_dt(now), node_run_id])
        found = cursor.fetchone()
    return None if found is None else _node_row(found)


def claim(
    node_run_id: int,
    seen_attempts: int,
    *,
    now: datetime,
    ready_by: datetime,
    lease_until: datetime,
    holder: str,
    dead_holder: str | None,
) -> bool:
    """The conditional update of DESIGN §6, checked by row count."""
    sql = (
        f"UPDATE {NODE_RUN} SET status = 'running', attempts = attempts + 1, lease_until = %s, claimed_by = %s, "
        "started_at = COALESCE(started_at, %s) "
        f"WHERE id = %s AND attempts = %s AND (({_UNINDEXED_STATUS} = 'pending' AND ready_at <= %s) "
        f"OR ({_UNINDEXED_STATUS} = 'running' AND (lease_until < %s OR claimed_by = %s)))"
    )
    params = [_dt(lease_until), holder, _dt(now), node_run_id, seen_attempts, _dt(ready_by), _dt(now)]
    params.append(dead_holder or "-")  # "-" is never a holder: holders are "host|pid|pid"
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def upstream_outputs(execution_id: Any, node_ids: tuple[str, ...]) -> dict[str, Any]:
    """Outputs of upstream nodes; a skipped (or not finished) node's output is None."""
    if not node_ids:
        return {}
    marks = ", ".join(["%s"] * len(node_ids))
    sql = f"SELECT node_id, status, output FROM {NODE_RUN} WHERE execution_id = %s AND node_id IN ({marks})"
    with _cursor() as cursor:
        cursor.execute(sql, [_uuid(execution_id), *node_ids])
        rows = cursor.fetchall()
    return {node_id: _loads(output) if status in ("completed", "failed") else None for node_id, status, output in rows}


# The fenced completion of a node run: written only by the attempt that holds the claim.
# Counts a node out of an active execution, locking its row. An ended one is not counted
# down: a late, superseded attempt would take a completed execution's 0 below zero (its
# write is fenced out and rolled back anyway).
COUNT_DOWN = (
    f"UPDATE {EXECUTION} SET remaining_nodes = remaining_nodes - "
    "(CASE WHEN status IN ('queued', 'running') THEN 1 ELSE 0 END) WHERE id = %s RETURNING status, remaining_nodes"
)

_RECORD_OUTCOME = (
    f"UPDATE {NODE_RUN} SET status = %s, output = %s, error = %s, attempt_log = %s, finished_at = %s, "
    f"lease_until = NULL WHERE id = %s AND {_UNINDEXED_STATUS} = 'running' AND attempts = %s"
)


def _outcome_params(
    node_run_id: int, attempt: int, status: str, output: Any, error: Any, attempt_log: list, now: datetime
) -> list:
    return [
        status,
        _json_param("output", output),
        _json_param("error", error),
        _json_param("attempt_log", attempt_log),
        _dt(now),
        node_run_id,
        attempt,
    ]


def record_outcome(
    node_run_id: int, attempt: int, *, status: str, output: Any, error: Any, attempt_log: list, now: datetime
) -> bool:
    """The fenced completion: only the attempt that holds the claim writes its result."""
    params = _outcome_params(node_run_id, attempt, status, output, error, attempt_log, now)
    with _cursor() as cursor:
        cursor.execute(_RECORD_OUTCOME, params)
        return cursor.rowcount == 1


def resolve_edges(
    execution_id: Any, targets: list[str], count: int, taken: int, now: datetime
) -> list[tuple[int, str, bool]]:
    """Resolves `count` parent edges of each target (`taken` of them taken) and returns
    the children this update decided: (id, node id, ready). The update that resolves a
    child's last edge stamps ready_at = now when any edge was taken; RETURNING gives the
    counters as this update left them, so a child is decided by exactly one update."""
    marks = ", ".join(["%s"] * len(targets))
    becomes_ready = "pending_parents = %s" if taken else "pending_parents = %s AND taken_parents > 0"
    sql = (
        f"UPDATE {NODE_RUN} SET pending_parents = pending_parents - %s, taken_parents = taken_parents + %s, "
        f"ready_at = CASE WHEN {becomes_ready} THEN %s ELSE ready_at END "
        f"WHERE execution_id = %s AND node_id IN ({marks}) AND pending_parents >= %s "
        # Ready means a taken edge, the same test as the CASE above; taken_parents rather
        # than ready_at, whose type SQLite's driver misreads in a RETURNING expression.
        "RETURNING id, node_id, pending_parents, taken_parents, status"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [count, taken, count, _dt(now), _uuid(execution_id), *targets, count])
        rows = cursor.fetchall()
    return [
        (run_id, node_id, taken_parents > 0)
        for run_id, node_id, pending, taken_parents, status in rows
        if pending == 0 and status == "pending"
    ]


def count_down_remaining(execution_id: Any) -> tuple[str, int]:
    """Counts a node out and locks the execution's row for the rest of the transaction
    (completions of one execution are serialized): UPDATE … RETURNING."""
    with _cursor() as cursor:
        cursor.execute(COUNT_DOWN, [_uuid(execution_id)])
        status, remaining = cursor.fetchone()
    return status, remaining


def start_execution(execution_id: Any, now: datetime) -> bool:
    """Marks a queued execution running; False when another root node got there first."""
    sql = f"UPDATE {EXECUTION} SET status = 'running', started_at = %s WHERE id = %s AND status = 'queued'"
    with _cursor() as cursor:
        cursor.execute(sql, [_dt(now), _uuid(execution_id)])
        return cursor.rowcount == 1
