"""Fault injection for the fault tests (tests/executions_app/test_faults.py): pausing a
worker process and letting it go on, a PostgreSQL connection of the test's own (to hold
locks, read pg_stat_activity and terminate a backend), and the sweeper run as beat
would run it."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection

from executions_app.engine.sweeper import sweep
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution
from tests.support.workers import WorkerProcess, session_database_url, wait_for

# Records (the DATABASE node's collections) kept their first app's table.
RECORDS_TABLE = "executions_app_record"
EXECUTIONS_TABLE = "executions_app_execution"


def suspend(worker: WorkerProcess) -> None:
    """SIGSTOP to the worker's process group (its main process and pool, if any): the
    whole worker freezes mid-node, heartbeat thread included, as a paused VM would."""
    assert worker.process is not None and worker.process.poll() is None
    os.killpg(worker.process.pid, signal.SIGSTOP)


def resume(worker: WorkerProcess) -> None:
    assert worker.process is not None
    os.killpg(worker.process.pid, signal.SIGCONT)


def sweep_until(predicate: Callable[[], Any], timeout: float = 60) -> Any:
    """Sweeps every half second, as beat would, until predicate() holds; returns its value."""

    def swept() -> Any:
        sweep()
        return predicate()

    return wait_for(swept, timeout=timeout, interval=0.5)


def unfinished(execution_ids: list[str]) -> int:
    return Execution.objects.filter(id__in=execution_ids, status__in=ACTIVE_EXECUTION_STATUSES).count()


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def own_connection() -> psycopg.Connection:
    """A connection of the test's own to its session database, outside Django's, in
    autocommit: a transaction on it is explicit (`with conn.transaction()`)."""
    return psycopg.connect(session_database_url(), autocommit=True)


@dataclass(frozen=True)
class Backend:
    """A row of pg_stat_activity: another process's PostgreSQL connection."""

    pid: int
    state: str
    wait_event_type: str | None
    backend_xid: str | None  # set once its transaction has written something
    xact_start: datetime | None  # set while a transaction is open
    query: str


def backend_running(conn: psycopg.Connection, query_prefix: str) -> Backend | None:
    """The backend of this database whose current (or last) statement starts with
    `query_prefix`, if any."""
    row = conn.execute(
        "SELECT pid, state, wait_event_type, backend_xid::text, xact_start, query FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE %s",
        [query_prefix.replace("%", r"\%") + "%"],
    ).fetchone()
    return Backend(*row) if row else None


def backend_gone(conn: psycopg.Connection, pid: int) -> bool:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (0,)


def row_locked_by_another(conn: psycopg.Connection, table: str, row_id: Any) -> bool:
    """Whether another transaction holds the row (updated or locked, not committed)."""
    try:
        with conn.transaction():
            conn.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [row_id])
    except psycopg.errors.LockNotAvailable:
        return True
    return False
