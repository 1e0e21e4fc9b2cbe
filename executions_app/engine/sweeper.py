"""The sweeper (beat, every SWITCHBOARD_SWEEP_INTERVAL_S): the database is the truth, so lost work is
found there and re-published. Re-publishing is always safe: the claim decides."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_redis import get_redis_connection

from core import heartbeat
from core.limits import Limits
from executions_app.engine.execution_end import end_failed
from executions_app.engine.publish import Publish, publish_for, publish_now
from executions_app.engine.wakes import wake_due
from executions_app.models import (
    ACTIVE_EXECUTION_STATUSES,
    FINISHED_EXECUTION_STATUSES,
    Execution,
    ExecutionLog,
    NodeRun,
    NodeRunStatus,
)
from workflows_app.nodes.base import get_node_class
from workflows_app.selectors import graph_for_version

logger = logging.getLogger(__name__)


# A lost lease is re-published at once, then (while nobody claims it: every worker busy,
# or the message lost again) after 1x, 2x, 4x ... SWEEP_STALE_READY_S, at most this long,
# so a backlog is not flooded with copies of the same node every sweep.
LOST_LEASE_MAX_BACKOFF_S = 300
# Pages of SWEEP_BATCH candidates one sweep looks through for lost leases not in backoff.
LOST_LEASE_MAX_PAGES = 10


def limits() -> Limits:
    # Read per call, not at import: a changed setting (a test's override) takes effect.
    return settings.SWITCHBOARD


def queue_for(node_type: str) -> str:
    try:
        return get_node_class(node_type).queue
    except Exception:
        return "nodes"


def publish_of(node_run_id: int, node_type: str, node_id: str, version_id: Any, execution_id: Any) -> Publish:
    """The same message the engine sends, time limits included (the prefork backstop)."""
    try:
        return publish_for(node_run_id, graph_for_version(version_id).nodes[node_id], execution_id)
    except Exception:  # the version is unreadable: the claim re-checks everything anyway
        logger.warning("sweeper: no spec for node run %s; publishing without limits", node_run_id, exc_info=True)
        return Publish(
            node_run_id, queue_for(node_type), node_type=node_type, node_id=node_id, execution_id=execution_id
        )


def sweep() -> dict[str, int]:
    now = timezone.now()
    lost_publishes = republish_stale_ready(now)
    dead = dead_holders()
    lost_workers = republish_lost_leases(now, dead)
    abandoned = close_abandoned_runs(now, dead)
    timed_out = end_overdue_executions(now)
    # The timer loop (the clock process) wakes waiting nodes within half a second; this
    # is the backstop for a deployment that runs no clock, or one that stopped.
    timers = wake_due(now, limits().sweep_batch)
    if lost_publishes or lost_workers or abandoned or timed_out or timers:
        logger.info(
            "sweep: %s ready re-published, %s lost leases, %s abandoned runs closed, %s executions timed out, "
            "%s timers woken",
            lost_publishes,
            lost_workers,
            abandoned,
            timed_out,
            timers,
        )
    return {
        "ready": lost_publishes,
        "leases": lost_workers,
        "abandoned": abandoned,
        "timed_out": timed_out,
        "timers": timers,
    }


def republish_stale_ready(now: Any) -> int:
    """Ready nodes nobody ran: the publish was lost between commit and broker, or the
    broker lost the message. Their ready_at moves forward, so they are re-published again
    only after another stale period."""
    stale = list(
        NodeRun.objects.filter(
            status=NodeRunStatus.PENDING,
            ready_at__lt=now - timedelta(seconds=limits().sweep_stale_ready_s),
            execution__status__in=ACTIVE_EXECUTION_STATUSES,
        )
        .order_by("ready_at")
        .values_list("id", "type", "node_id", "execution__version_id", "execution_id")[: limits().sweep_batch]
    )
    if not stale:
        return 0
    NodeRun.objects.filter(id__in=[row[0] for row in stale], status=NodeRunStatus.PENDING).update(ready_at=now)
    publish_now([publish_of(*row) for row in stale])
    return len(stale)


def dead_holders() -> set[str]:
    """The claim holders of running nodes whose worker process is gone."""
    holders = set(
        NodeRun.objects.filter(status=NodeRunStatus.RUNNING)
        .exclude(claimed_by="")
        .values_list("claimed_by", flat=True)
        .distinct()
    )
    return heartbeat.dead_holders(holders)


def close_abandoned_runs(now: Any, dead: set[str]) -> int:
    """Running nodes of executions that ended meanwhile, whose worker died: nothing will
    run them again (nothing more starts in an ended execution), so they end failed
    instead of showing `running` for ever."""
    abandoned = NodeRun.objects.filter(
        Q(lease_until__lt=now) | Q(claimed_by__in=dead), status=NodeRunStatus.RUNNING
    ).exclude(execution__status__in=ACTIVE_EXECUTION_STATUSES)
    message = "The worker running this node stopped after the execution had ended; it was not run again."
    return abandoned.update(
        status=NodeRunStatus.FAILED,
        error={"code": "worker_lost", "message": message},
        lease_until=None,
        finished_at=now,
    )


def republish_lost_leases(now: Any, dead: set[str] | None = None) -> int:
    """Running nodes whose lease expired or whose worker stopped beating (killed). Only
    lost rows are read (filtered in SQL), in id order, skipping those in backoff."""
    if dead is None:
        dead = dead_holders()
    lost = NodeRun.objects.filter(
        Q(lease_until__lt=now) | Q(claimed_by__in=dead),
        status=NodeRunStatus.RUNNING,
        execution__status__in=ACTIVE_EXECUTION_STATUSES,
    ).order_by("id")
    batch = limits().sweep_batch
    due: list[tuple[Any, ...]] = []
    after = 0
    for _ in range(LOST_LEASE_MAX_PAGES):
        page = list(
            lost.filter(id__gt=after).values_list(
                "id", "attempts", "type", "node_id", "execution__version_id", "execution_id"
            )[:batch]
        )
        if not page:
            break
        after = page[-1][0]
        due += lost_lease_backoff.due(page)
        if len(due) >= batch or len(page) < batch:
            break
    due = due[:batch]
    if not due:
        return 0
    publish_now([publish_of(node_run_id, *rest) for node_run_id, _, *rest in due])
    lost_lease_backoff.record(due)
    return len(due)


class LostLeaseBackoff:
    """Per (node run, attempt) in Redis: how often the sweeper re-published this loss and
    when it may again. A new claim is a new attempt, so a later loss starts over."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # wall time: sweeps may run in different processes

    def key(self, node_run_id: int, attempts: int) -> str:
        return f"{settings.REDIS_KEY_PREFIX}:sweep:lost:{node_run_id}:{attempts}"

    def interval_s(self, times: int) -> float:
        return min(LOST_LEASE_MAX_BACKOFF_S, limits().sweep_stale_ready_s * 2.0 ** (times - 1))

    def due(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The rows (id, attempts, ...) not re-published within their backoff."""
        try:
            states = get_redis_connection("default").mget([self.key(row[0], row[1]) for row in rows])
        except Exception:  # Redis down: re-publishing too often is safe, never at all is not
            logger.warning("sweeper: lost-lease backoff unreadable; re-publishing all", exc_info=True)
            return rows
        wall = self.clock()
        return [row for row, state in zip(rows, states, strict=True) if state is None or self._next_at(state) <= wall]

    def record(self, rows: Iterable[tuple[Any, ...]]) -> None:
        try:
            redis = get_redis_connection("default")
            keys = [self.key(row[0], row[1]) for row in rows]
            wall = self.clock()
            pipe = redis.pipeline(transaction=False)
            for key, state in zip(keys, redis.mget(keys), strict=True):
                times = self._times(state) + 1
                pipe.set(key, f"{times}:{wall + self.interval_s(times)}", ex=int(LOST_LEASE_MAX_BACKOFF_S * 4))
            pipe.execute()
        except Exception:
            logger.warning("sweeper: could not record the lost-lease backoff", exc_info=True)

    @staticmethod
    def _times(state: bytes | None) -> int:
        return int(state.split(b":")[0]) if state else 0

    @staticmethod
    def _next_at(state: bytes) -> float:
        return float(state.split(b":")[1])


lost_lease_backoff = LostLeaseBackoff()


def end_overdue_executions(now: Any) -> int:
    overdue = list(
        Execution.objects.filter(status__in=ACTIVE_EXECUTION_STATUSES, deadline_at__lt=now).values_list(
            "id", flat=True
        )[: limits().sweep_batch]
    )
    for execution_id in overdue:
        with transaction.atomic():
            status = (
                Execution.objects.select_for_update(no_key=True)
                .filter(id=execution_id)
                .values_list("status", flat=True)
                .first()
            )
            if status not in ACTIVE_EXECUTION_STATUSES:
                continue
            end_failed(
                execution_id,
                node_id=None,
                error={"code": "execution_timeout", "message": "The execution ran past its time limit."},
                now=now,
            )
            ExecutionLog.objects.create(
                execution_id=execution_id, level="error", message="Failed: the execution ran past its time limit."
            )
    return len(overdue)


def prune_old_executions(batch: int = 500) -> int:
    """Retention: executions that finished more than SWITCHBOARD_EXECUTION_RETENTION_DAYS
    ago, with their node runs, logs and children, deleted in batches. Only finished ones,
    by when they finished: a 30-day wait is not deleted by a 30-day retention."""
    cutoff = timezone.now() - timedelta(days=limits().execution_retention_days)
    deleted = 0
    while True:
        finished = Execution.objects.filter(status__in=FINISHED_EXECUTION_STATUSES, finished_at__lt=cutoff)
        # A child goes with its parent (or on its own once the parent is gone).
        finished = finished.filter(Q(parent__isnull=True) | Q(parent__status__in=FINISHED_EXECUTION_STATUSES))
        ids = list(finished.values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        Execution.objects.filter(id__in=ids).delete()
        deleted += len(ids)
