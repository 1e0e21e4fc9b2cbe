"""Celery entry points. Thin: ids in, one service call, nothing else (docs/architecture.md, Layers).

Task names are part of the wire format: a rename strands messages already queued, so
tests pin every name."""

from __future__ import annotations

from celery import shared_task
from django_redis import get_redis_connection

from executions_app.engine import run_node
from executions_app.engine.sweeper import prune_old_executions
from executions_app.engine.sweeper import sweep as sweep_service
from executions_app.models import NodeRunStatus
from triggers_app.retention import prune_old_trigger_logs
from workers.task_events import FailedNode, NodeRunRequest


@shared_task(name="workers.ping", ignore_result=True)
def ping(reply_key: str | None = None, wake_key: str | None = None) -> str:
    """Proves a worker consumes from the broker: writes `pong` under reply_key in Redis,
    and pushes it onto the list wake_key, for a waiter blocked on BLPOP."""
    if reply_key or wake_key:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        if reply_key:
            pipe.set(reply_key, "pong", ex=60)
        if wake_key:
            pipe.rpush(wake_key, "pong")
            pipe.expire(wake_key, 60)
        pipe.execute()
    return "pong"


@shared_task(name="workers.node_run", ignore_result=True, acks_late=True, Request=NodeRunRequest)
def node_run(node_run_id: int, lease_s: float | None = None) -> FailedNode | None:
    """Claims, runs and completes one node run, then publishes what became ready.
    `lease_s` (optional, so older messages still run) is the node's lease in seconds.
    A node that failed is returned as a `FailedNode`, for the task events to report the
    task as failed (workers/task_events.py); the message is acknowledged all the same."""
    outcome = run_node(node_run_id, lease_s)
    if outcome is not None and outcome.status == NodeRunStatus.FAILED:
        return FailedNode(outcome.error)
    return None


# No task events: a sweep every 2 s would fill Flower's task list (beat sends no task-sent
# for it either, workers.signals). What a sweep repairs shows in the nodes it re-publishes.
@shared_task(name="workers.sweep", ignore_result=True, send_events=False)
def sweep() -> None:
    """Re-publishes lost work and fails overdue executions (beat, every few seconds)."""
    sweep_service()


@shared_task(name="workers.prune_executions", ignore_result=True)
def prune_executions() -> None:
    prune_old_executions()


@shared_task(name="workers.prune_trigger_logs", ignore_result=True)
def prune_trigger_logs() -> None:
    """Webhook deliveries and schedule ticks past the retention (beat, hourly)."""
    prune_old_trigger_logs()
