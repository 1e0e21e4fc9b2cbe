"""Platform counters in Redis, moved as executions finish (one pipeline, after commit).
Per-process counters would be wrong under gunicorn and Celery; Prometheus reads these at
scrape time (docs/operations/monitoring.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

# Execution duration histogram buckets, in seconds (Prometheus `le` labels).
DURATION_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


def key(*parts: Any) -> str:
    return ":".join([settings.REDIS_KEY_PREFIX, "metrics", *map(str, parts)])


def queue_execution_finished(
    pipe: Any, *, owner_id: Any, workflow_id: Any, status: str, duration_ms: float | None, **kwargs: Any
) -> None:
    """Counts a finished execution, platform-wide, per owner and per workflow, with its
    duration: commands added to a pipeline the engine sends with the execution's last
    events (connected to executions_app.signals.execution_finished)."""
    pipe.hincrby(key("executions"), status, 1)
    pipe.hincrby(key("executions", "user", owner_id), status, 1)
    pipe.hincrby(key("executions", "workflow", workflow_id), status, 1)
    if duration_ms is not None:
        seconds = duration_ms / 1000
        for bound in DURATION_BUCKETS_S:
            if seconds <= bound:
                pipe.hincrby(key("execution_duration"), f"le:{bound}", 1)
        pipe.hincrby(key("execution_duration"), "count", 1)
        pipe.hincrbyfloat(key("execution_duration"), "sum", seconds)


def execution_counts(owner_id: Any | None = None, client: Any = None) -> dict[str, int]:
    """Finished executions by status since the counters began, platform-wide or one owner's."""
    name = key("executions") if owner_id is None else key("executions", "user", owner_id)
    raw = (client or get_redis_connection("default")).hgetall(name)
    return {k.decode(): int(v) for k, v in raw.items()}


def duration_histogram(client: Any = None) -> dict[str, float]:
    """Cumulative bucket counts (`le:<seconds>`), `count` and `sum` (seconds)."""
    raw = (client or get_redis_connection("default")).hgetall(key("execution_duration"))
    return {k.decode(): float(v) for k, v in raw.items()}
