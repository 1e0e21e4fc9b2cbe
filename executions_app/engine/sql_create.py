"""PostgreSQL only: a new execution and its node runs in one statement.

Through the ORM that was BEGIN, two INSERTs and COMMIT (four round trips, the commit a
synchronous one: the API's writes are durable) and, in Python, a model instance and a
dozen adapted values per node run. One statement is atomic by itself: the execution's
INSERT is Django's own (its defaults and adapters), the node runs come from three arrays."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import AutoField
from django.db.models.sql import InsertQuery

from executions_app.models import Execution, NodeRun

NODE_RUN = NodeRun._meta.db_table
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
}
INSERT_RUNS = (
    f"INSERT INTO {NODE_RUN} ({', '.join(NEW_RUN_VALUES)}) SELECT {', '.join(NEW_RUN_VALUES.values())} "
    "FROM unnest(%s::varchar[], %s::varchar[], %s::integer[]) WITH ORDINALITY AS x(node_id, type, parents, n) "
    "ORDER BY x.n RETURNING id, node_id"
)


def _insert_execution(execution: Execution) -> tuple[str, list]:
    fields = [f for f in Execution._meta.concrete_fields if not isinstance(f, AutoField)]
    query = InsertQuery(Execution)
    query.insert_values(fields, [execution])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def insert_execution_and_runs(execution: Execution, graph: Any, now: datetime) -> dict[str, int]:
    """Inserts the (unsaved) execution and a pending node run per node of the graph, with
    its join counter; returns the runs' ids by node id. Raises IntegrityError as the ORM
    would (an idempotency key taken meanwhile)."""
    execution_sql, execution_params = _insert_execution(execution)
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
