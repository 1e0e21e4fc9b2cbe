"""What the engine tells the world after a commit: the status cache (docs/architecture.md, Caching), the
event stream (the events API) and the monitoring counters (docs/operations/monitoring.md)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django_redis import get_redis_connection
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from executions_app import events, status_cache
from executions_app.engine.publish import Publish, publish_after_events
from executions_app.models import Execution
from executions_app.signals import execution_finished

logger = logging.getLogger(__name__)
# What a publish raises when the broker cannot be reached, after kombu's own retries.
BROKER_UNREACHABLE = (KombuOperationalError, RedisError, OSError)


def execution_status_changed(
    execution_id: Any,
    status: str,
    now: Any,
    node_events: list[dict[str, Any]] | None = None,
    *,
    finished_row: dict[str, Any] | None = None,
    publish: list[Publish] | None = None,
) -> None:
    """After commit: cache the new status, append the events, count a finished run, and
    publish `publish` (the execution's first nodes) after its events. `finished_row`
    (owner_id, workflow_id, started_at), when the caller has it, saves reading the
    execution again."""
    finished = status in ("completed", "failed", "canceled")
    state = {"status": status, "finished_at": now.isoformat() if finished else None}

    def announce() -> None:
        status_cache.write_now(execution_id, state)
        # Node changes come before the execution's end, and after its start.
        execution = [events.execution_event(status)]
        nodes = node_events or []
        if not finished:
            # The nodes published come after the events (one round trip for both when the
            # broker shares the Redis): a worker's `running` never precedes `queued`.
            try:
                publish_after_events(publish or [], execution_id, [*execution, *nodes])
            except BROKER_UNREACHABLE as exc:
                if not publish:
                    raise
                # Committed, so not lost: the sweeper publishes ready nodes nobody took
                # (SWEEP_STALE_READY_S). The request that created it must not fail (a
                # client would submit it again) and the caller's work is done.
                logger.warning(
                    "Execution %s is saved, but its first nodes could not be queued (%s: %s); they are "
                    "queued by the sweeper once the broker answers.",
                    execution_id,
                    type(exc).__name__,
                    exc,
                )
            return
        row = finished_row or (
            Execution.objects.filter(id=execution_id).values("owner_id", "workflow_id", "started_at").first()
        )
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
            events.queue_events(pipe, execution_id, [*nodes, *execution])
            if row:
                started = row["started_at"]  # None: it never ran (canceled or timed out queued)
                execution_finished.send(
                    Execution,
                    pipe=pipe,
                    owner_id=row["owner_id"],
                    workflow_id=row["workflow_id"],
                    status=status,
                    duration_ms=(now - started).total_seconds() * 1000 if started else None,
                )
            pipe.execute()
        except Exception:
            logger.warning("could not append execution events and counters", exc_info=True)

    transaction.on_commit(announce)
