"""The engine's storage on PostgreSQL: the portable steps, with what takes two or three
round trips there fused into one statement (CTEs over `UPDATE … RETURNING`), and every
statement prepared once per connection.

Parsing and planning the claim cost more than executing it (0.25 ms against 0.1 ms), so
the engine's statements run as prepared statements. Django opens psycopg connections
with them off (prepare_threshold None), and psycopg then ignores prepare=True: they are
switched on only while the engine's own statements run (SWITCHBOARD_DB_PREPARED_STATEMENTS).
On for the whole connection, psycopg would also count every ORM query, whose text
carries its values (up to 100 per connection, inputs and definitions included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import AutoField
from django.db.models.sql import InsertQuery
from psycopg.errors import FeatureNotSupported

from executions_app.engine.storage.portable import FINISHED_ROW, PortableStorage
from executions_app.engine.storage.statements import (
    COUNT_DOWN,
    EXECUTION,
    NODE_RUN,
    RECORD_OUTCOME,
    UNINDEXED_STATUS,
    ClaimedRun,
    Recorded,
    adapt_datetime,
    adapt_uuid,
    claimed_run,
    claimed_run_columns,
    joined_execution,
    outcome_params,
)
from executions_app.models import Execution

if TYPE_CHECKING:
    from workflows_app.graph import Graph

# A threshold no query reaches: only what asks to be prepared is.
_ONLY_WHEN_ASKED = 2**31 - 1

# Every column of a node run but its id, and what a new one holds (the model's defaults;
# a test checks that this list and the model agree).
NEW_RUN_VALUES = {
    "execution_id": "%s",
    "node_id": "x.node_id",
    "type": "x.type",
    "status": "'pending'",
    "attempts": "0",
    "attempt_log": "'[]'::jsonb",
    "output": "NULL",
    "error": "NULL",
    "pending_parents": "x.parents",
    "taken_parents": "0",
    "ready_at": "CASE WHEN x.parents = 0 THEN %s::timestamptz END",  # roots are ready at once
    "lease_until": "NULL",
    "claimed_by": "''",
    "reused_from_id": "NULL",
    "started_at": "NULL",
    "finished_at": "NULL",
    "resumes": "0",
    "wake_at": "NULL",
    "waiting_on": "NULL",
    "state": "NULL",
}
INSERT_RUNS = (
    f"INSERT INTO {NODE_RUN} ({', '.join(NEW_RUN_VALUES)}) SELECT {', '.join(NEW_RUN_VALUES.values())} "
    "FROM unnest(%s::varchar[], %s::varchar[], %s::integer[]) WITH ORDINALITY AS x(node_id, type, parents, n) "
    "ORDER BY x.n RETURNING id, node_id"
)


class PreparedCursor:
    """A psycopg cursor on Django's connection (its transaction, its adapters) whose
    statements the server prepares once per connection and then only executes."""

    def __init__(self, raw: Any):
        self.raw = raw

    def execute(self, sql: str, params: list[Any]) -> None:
        try:
            self.raw.execute(sql, params, prepare=True)
        except FeatureNotSupported:
            # "cached plan must not change result type": a migration changed a table under
            # a prepared statement. In a transaction, its rollback clears psycopg's cache;
            # outside one, the statement would fail on this connection until it closed.
            if not self.raw.connection.autocommit:
                raise
            self.raw.execute("DEALLOCATE ALL")  # psycopg forgets its prepared names too
            self.raw.execute(sql, params, prepare=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class PostgresStorage(PortableStorage):
    releases_straight = True

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        raw_connection = connection.connection
        previous = raw_connection.prepare_threshold
        if settings.SWITCHBOARD.engine_prepared_statements:
            raw_connection.prepare_threshold = _ONLY_WHEN_ASKED  # else prepare=True does nothing
        try:
            with connection.wrap_database_errors, psycopg.Cursor(raw_connection) as raw:
                yield PreparedCursor(raw)
        finally:
            raw_connection.prepare_threshold = previous

    def create_execution(self, execution: Execution, graph: Graph, now: datetime) -> dict[str, int]:
        """One statement: the execution's INSERT is Django's own (its defaults and
        adapters), the node runs come from three arrays. Through the ORM that was BEGIN,
        two INSERTs and COMMIT (four round trips, the commit a synchronous one: the API's
        writes are durable) and a model instance per node run."""
        fields = [f for f in Execution._meta.concrete_fields if not isinstance(f, AutoField)]
        query = InsertQuery(Execution)
        query.insert_values(fields, [execution])
        [(execution_sql, execution_params)] = query.get_compiler(connection=connection).as_sql()
        node_ids = list(graph.nodes)
        params = [
            *execution_params,
            execution.pk,
            now,
            node_ids,
            [graph.nodes[node_id].type for node_id in node_ids],
            [len(graph.parents(node_id)) for node_id in node_ids],
        ]
        # Alone, the statement is its own transaction; inside a caller's, a savepoint keeps
        # that transaction usable after an IntegrityError, as the ORM's atomic() did.
        with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
            cursor.execute(f"WITH e AS ({execution_sql}) {INSERT_RUNS}", params)
            found = {node_id: run_id for run_id, node_id in cursor.fetchall()}
        execution._state.adding = False
        execution._state.db = connection.alias
        return found

    def claim_ready(
        self, node_run_id: int, *, now: datetime, ready_by: datetime, lease_until: datetime, holder: str
    ) -> ClaimedRun | None:
        columns = claimed_run_columns("c", "false")
        sql = (
            f"WITH c AS (UPDATE {NODE_RUN} SET status = 'running', attempts = attempts + 1, lease_until = %s, "
            "claimed_by = %s, started_at = COALESCE(started_at, %s) "
            f"WHERE id = %s AND {UNINDEXED_STATUS} = 'pending' AND ready_at <= %s AND ("
            f"SELECT x.status FROM {EXECUTION} x WHERE x.id = execution_id) IN ('queued', 'running') "
            "RETURNING execution_id, node_id, status, attempts, attempt_log, claimed_by, resumes, state, started_at) "
            f"SELECT {columns} FROM c {joined_execution('c')}"
        )
        params = [adapt_datetime(lease_until), holder, adapt_datetime(now), node_run_id, adapt_datetime(ready_by)]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchone()
        return None if found is None else claimed_run(found)

    def count_down_and_record(
        self, execution_id: Any, node_run_id: int, attempt: int, recorded: Recorded, now: datetime
    ) -> tuple[str, int, bool]:
        """One statement. The node update reads the execution update's result, so the
        execution row is always locked first, in the same order as every other completion."""
        sql = (
            f"WITH e AS ({COUNT_DOWN}), "
            f"n AS ({RECORD_OUTCOME} AND EXISTS (SELECT 1 FROM e) RETURNING 1) "
            "SELECT e.status, e.remaining_nodes, (SELECT count(*) FROM n) FROM e"
        )
        params = [adapt_uuid(execution_id), *outcome_params(node_run_id, attempt, recorded, now)]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchone()
        if found is None:  # the execution was pruned meanwhile
            return "canceled", 0, False
        execution_status, remaining, written = found
        return execution_status, remaining, written == 1

    def record_and_release(
        self,
        execution_id: Any,
        node_run_id: int,
        attempt: int,
        children: tuple[str, ...],
        recorded: Recorded,
        now: datetime,
    ) -> tuple[str, int, bool, list[tuple[int, str]]]:
        """For a completed node whose edges out are all unbranched (Graph.straight_children):
        the whole completion in one statement, no transaction around it. Locks the
        execution's row first (as every completion does), writes the fenced result, counts
        the node out only when the result was written, and, while the execution is active,
        resolves and takes its edge into each child: a child brought to zero unresolved
        parents is ready (this edge was taken), and the one update that does so returns
        it, so a join is released once. Returns the execution's status and remaining
        count, whether the result was written, and the children made ready as (node run
        id, node id)."""
        marks = ", ".join(["%s"] * len(children))
        sql = (
            f"WITH x AS (SELECT status FROM {EXECUTION} WHERE id = %s FOR UPDATE), "
            f"n AS ({RECORD_OUTCOME} AND EXISTS (SELECT 1 FROM x) RETURNING 1), "
            f"e AS (UPDATE {EXECUTION} SET remaining_nodes = remaining_nodes - 1 WHERE id = %s "
            "AND EXISTS (SELECT 1 FROM n) RETURNING status, remaining_nodes), "
            f"r AS (UPDATE {NODE_RUN} SET pending_parents = pending_parents - 1, taken_parents = taken_parents + 1, "
            "ready_at = CASE WHEN pending_parents = 1 THEN %s ELSE ready_at END "
            f"WHERE execution_id = %s AND node_id IN ({marks}) AND pending_parents > 0 "
            f"AND {UNINDEXED_STATUS} = 'pending' AND EXISTS (SELECT 1 FROM e WHERE e.status IN ('queued', 'running')) "
            "RETURNING id, node_id, pending_parents) "
            "SELECT x.status, e.status, e.remaining_nodes, r.id, r.node_id, r.pending_parents FROM x "
            "LEFT JOIN e ON true LEFT JOIN r ON true"
        )
        execution = adapt_uuid(execution_id)
        params = [
            execution,
            *outcome_params(node_run_id, attempt, recorded, now),
            execution,
            adapt_datetime(now),
            execution,
            *children,
        ]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:  # the execution was pruned meanwhile
            return "canceled", 0, False, []
        seen_status, execution_status, remaining, *_ = rows[0]
        if execution_status is None:  # the attempt lost its claim: nothing was written
            return seen_status, 0, False, []
        ready = [(run_id, node_id) for *_, run_id, node_id, pending in rows if run_id and pending == 0]
        return execution_status, remaining, True, ready

    def end_completed(
        self, execution_id: Any, output_node_ids: tuple[str, ...], now: datetime
    ) -> dict[str, Any] | None:
        """One statement; returns what the monitoring counters need."""
        marks = ", ".join(["%s"] * len(output_node_ids))
        sql = (
            f"UPDATE {EXECUTION} SET status = 'completed', remaining_nodes = 0, finished_at = %s, outputs = ("
            f"SELECT COALESCE(jsonb_object_agg(node_id, output), '{{}}'::jsonb) FROM {NODE_RUN} "
            f"WHERE execution_id = %s AND node_id IN ({marks}) AND status = 'completed') "
            "WHERE id = %s RETURNING owner_id, workflow_id, started_at, parent_id, parent_node_id"
        )
        execution = adapt_uuid(execution_id)
        with self.cursor() as cursor:
            cursor.execute(sql, [adapt_datetime(now), execution, *output_node_ids, execution])
            found = cursor.fetchone()
        return None if found is None else dict(zip(FINISHED_ROW, found, strict=True))
