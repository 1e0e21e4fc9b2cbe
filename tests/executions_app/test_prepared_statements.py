"""The engine's statements are prepared on PostgreSQL (engine/sql.py), and only they are."""

from __future__ import annotations

import pytest
from django.db import connection

from executions_app.engine import sql

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]


def run_prepared(statement: str) -> list[tuple]:
    with sql._cursor() as cursor:
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
