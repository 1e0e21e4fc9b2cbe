"""The engine's statements are prepared on PostgreSQL (engine/storage/postgres.py), and only they are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions_app.engine.storage import storage
from executions_app.engine.storage.postgres import NEW_RUN_VALUES
from executions_app.models import NodeRun
from tests.support.definitions import edge, input_node, node

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]


def run_prepared(statement: str) -> list[tuple]:
    with storage().cursor() as cursor:
        cursor.execute(statement, [])
        return cursor.fetchall()


@pytest.fixture
def probe_table():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE probe_prepared (v integer)")
        cursor.execute("INSERT INTO probe_prepared VALUES (1)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE probe_prepared")


def test_a_migration_that_changes_a_result_type_does_not_break_the_statement(probe_table) -> None:
    assert run_prepared("SELECT v FROM probe_prepared") == [(1,)]
    with connection.cursor() as cursor:  # a deploy's migration while the worker runs
        cursor.execute("ALTER TABLE probe_prepared ALTER COLUMN v TYPE text")

    assert run_prepared("SELECT v FROM probe_prepared") == [("1",)]  # prepared again, once
    assert run_prepared("SELECT v FROM probe_prepared") == [("1",)]


def test_other_queries_are_neither_prepared_nor_remembered(probe_table) -> None:
    run_prepared("SELECT v FROM probe_prepared")
    with connection.cursor() as cursor:  # the ORM's cursor, values inlined in the text
        cursor.execute("SELECT v FROM probe_prepared WHERE v = %s", [1])
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE from_sql = false")
        prepared = cursor.fetchall()

    assert len(prepared) == 1
    # Prepared statements are off again for everything else on the connection: psycopg
    # would otherwise keep the text (and values) of the last 100 queries it saw.
    assert connection.connection.prepare_threshold is None


def test_a_new_execution_and_its_node_runs_are_one_statement_that_fills_every_column(make_workflow, run) -> None:
    """engine/storage/postgres.py writes node runs column by column: a field added to NodeRun
    must be added there too, with what a new run holds."""
    assert set(NEW_RUN_VALUES) == {f.column for f in NodeRun._meta.concrete_fields if not f.primary_key}
    workflow_id = make_workflow(
        [
            input_node(),
            node("a", "TRANSFORM", {"value": 1}),
            node("b", "TRANSFORM", {"value": 2}),
            node("j", "OUTPUT", {"value": 3}),
        ],
        [edge("start", "a"), edge("start", "b"), edge("a", "j"), edge("b", "j")],
    )
    with CaptureQueriesContext(connection) as queries:
        execution_id = run(workflow_id, wait=None).json()["id"]
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1, writes  # no BEGIN or COMMIT around it: one atomic statement

    rows = NodeRun.objects.filter(execution_id=execution_id).order_by("id")
    assert [(r.node_id, r.type, r.status, r.pending_parents, r.ready_at is not None) for r in rows] == [
        ("start", "INPUT", "pending", 0, True),
        ("a", "TRANSFORM", "pending", 1, False),
        ("b", "TRANSFORM", "pending", 1, False),
        ("j", "OUTPUT", "pending", 2, False),
    ]
    fresh = NodeRun(execution_id=execution_id, node_id="x", type="T")  # the model's defaults
    for name in ("attempts", "attempt_log", "output", "error", "taken_parents", "claimed_by", "lease_until"):
        assert all(getattr(r, name) == getattr(fresh, name) for r in rows), name
