"""Worker lifecycle: heartbeats from the main process; pool children learn its pid. And
beat's task events (none)."""

from __future__ import annotations

import gc
import os
import time
from typing import Any

from celery.signals import (
    beat_init,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)
from django.conf import settings
from django.db import close_old_connections, connections
from django.db.backends.signals import connection_created

from core import heartbeat
from executions_app.engine.ports import node_ports
from workflows_app.nodes.base import node_types


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
    if not settings.SWITCHBOARD.engine_synchronous_commit:
        connection_created.connect(use_asynchronous_commit, weak=False, dispatch_uid="switchboard-async-commit")


@worker_init.connect
def prepare_node_types(sender: Any = None, **kwargs: Any) -> None:
    """Each node type served by this worker's queues loads what its run() needs now, not
    on the first node (the `ai` queue: the provider SDKs). A worker on other queues never
    loads them."""
    queues = set(sender.app.amqp.queues.consume_from) if sender is not None else set()
    for node_class in node_types().values():
        if node_class.queue in queues:
            node_class.prepare_worker(node_ports())


# A connection that finished a task this recently is taken as alive: Django's health
# check is one `SELECT 1` round trip, a tenth of a node's database time under load.
HEALTH_CHECK_IDLE_S = 1.0
_last_task_end = 0.0


@task_prerun.connect
def recycle_database_connections(**kwargs: Any) -> None:
    """Django's per-request rule, per task: drop connections that are broken or older than
    CONN_MAX_AGE; keep the rest (see config/celery.py). The health check runs only after
    the worker sat idle; a connection that died in between fails its task's first query,
    marks itself broken for the next task, and the sweeper re-runs the node."""
    close_old_connections()
    if time.monotonic() - _last_task_end < HEALTH_CHECK_IDLE_S:
        for conn in connections.all(initialized_only=True):
            if conn.connection is not None and not conn.errors_occurred:
                # Django's own flag (BaseDatabaseWrapper.__init__), missing from django-stubs.
                conn.health_check_done = True  # type: ignore[attr-defined]


@task_postrun.connect
def note_task_end(**kwargs: Any) -> None:
    global _last_task_end
    close_old_connections()
    _last_task_end = time.monotonic()


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    queues = [q.name for q in sender.app.amqp.queues.consume_from.values()] if sender else []
    heartbeat.set_main_pid(os.getpid())
    heartbeat.watch_pool(lambda: pool_processes(sender))
    heartbeat.beat_once(queues)
    heartbeat.start(queues)


def pool_processes(consumer: Any) -> list[int]:
    """The prefork pool's child pids (billiard's process list); none for other pools."""
    processes = getattr(getattr(getattr(consumer, "pool", None), "_pool", None), "_pool", None)
    return [process.pid for process in list(processes or ())]


@worker_process_init.connect
def remember_worker_pid(**kwargs: Any) -> None:
    heartbeat.set_main_pid(os.getppid())


@worker_process_init.connect
def freeze_startup_objects(**kwargs: Any) -> None:
    """Everything imported and set up before the first task lives as long as the process:
    moved out of the garbage collector's sight, a full collection no longer walks it (one
    took 171 ms in a busy worker) and no longer touches the pages it shares with its parent."""
    gc.freeze()


@worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    heartbeat.stop()


@beat_init.connect
def no_task_sent_events_from_beat(sender: Any = None, **kwargs: Any) -> None:
    """Beat sends only the periodic tasks: the sweep every 2 s, which sends no task events
    (workers.tasks), and the hourly pruning. Its task-sent events would list every sweep
    in Flower as a task never received; the worker's own events for the pruning remain."""
    if sender is not None:
        sender.app.conf.task_send_sent_event = False
