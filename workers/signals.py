"""Worker lifecycle: heartbeats from the main process; pool children learn its pid."""

from __future__ import annotations

import os
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.db.backends.signals import connection_created

from workers import heartbeat


def use_asynchronous_commit(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


@worker_init.connect
def engine_commit_mode(**kwargs: Any) -> None:
    """Node-state commits in workers skip the WAL flush wait (about 2 ms each) unless
    SWITCHBOARD_ENGINE_SYNCHRONOUS_COMMIT is on. A PostgreSQL crash can then lose the last
    moments of node transitions, never corrupt them: the sweeper re-runs what was lost,
    and a DATABASE node's writes are lost (and re-done) together with its completion."""
    if not settings.SWITCHBOARD["ENGINE_SYNCHRONOUS_COMMIT"]:
        connection_created.connect(use_asynchronous_commit, weak=False, dispatch_uid="switchboard-async-commit")


@task_prerun.connect
@task_postrun.connect
def recycle_database_connections(**kwargs: Any) -> None:
    """Django's per-request rule, per task: drop connections that are broken or older than
    CONN_MAX_AGE; keep the rest (see config/celery.py)."""
    close_old_connections()


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    queues = [q.name for q in sender.app.amqp.queues.consume_from.values()] if sender else []
    heartbeat.set_main_pid(os.getpid())
    heartbeat.beat_once(queues)
    heartbeat.start(queues)


@worker_process_init.connect
def remember_worker_pid(**kwargs: Any) -> None:
    heartbeat.set_main_pid(os.getppid())


@worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    heartbeat.stop()
