"""The sweeper (beat, every SWEEP_INTERVAL_S): the database is the truth, so lost work is
found there and re-published. Re-publishing is always safe: the claim decides."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions_app.engine.complete import fail_execution
from executions_app.engine.publish import Publish, publish_now
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionLog, NodeRun, NodeRunStatus
from workers import heartbeat
from workflows_app.nodes.base import get_node_class

logger = logging.getLogger(__name__)
LIMITS = settings.SWITCHBOARD


def queue_for(node_type: str) -> str:
    try:
        return get_node_class(node_type).queue
    except Exception:
        return "nodes"


def sweep() -> dict[str, int]:
    now = timezone.now()
    lost_publishes = republish_stale_ready(now)
    lost_workers = republish_lost_leases(now)
    timed_out = fail_overdue_executions(now)
    if lost_publishes or lost_workers or timed_out:
        logger.info(
            "sweep: %s ready re-published, %s lost leases, %s executions timed out",
            lost_publishes,
            lost_workers,
            timed_out,
        )
    return {"ready": lost_publishes, "leases": lost_workers, "timed_out": timed_out}


def republish_stale_ready(now: Any) -> int:
    """Ready nodes nobody ran: the publish was lost between commit and broker, or the
    broker lost the message. Their ready_at moves forward, so they are re-published again
    only after another stale period."""
    stale = list(
        NodeRun.objects.filter(
            status=NodeRunStatus.PENDING,
            ready_at__lt=now - timedelta(seconds=LIMITS["SWEEP_STALE_READY_S"]),
            execution__status__in=ACTIVE_EXECUTION_STATUSES,
        ).values_list("id", "type")[: LIMITS["SWEEP_BATCH"]]
    )
    if not stale:
        return 0
    NodeRun.objects.filter(id__in=[i for i, _ in stale], status=NodeRunStatus.PENDING).update(ready_at=now)
    publish_now([Publish(node_run_id, queue_for(node_type)) for node_run_id, node_type in stale])
    return len(stale)


def republish_lost_leases(now: Any) -> int:
    """Running nodes whose lease expired or whose worker stopped beating (killed)."""
    running = list(
        NodeRun.objects.filter(
            status=NodeRunStatus.RUNNING, execution__status__in=ACTIVE_EXECUTION_STATUSES
        ).values_list("id", "type", "claimed_by", "lease_until")[: LIMITS["SWEEP_BATCH"]]
    )
    if not running:
        return 0
    dead = heartbeat.dead_holders({holder for _, _, holder, _ in running if holder})
    lost = [
        Publish(node_run_id, queue_for(node_type))
        for node_run_id, node_type, holder, lease_until in running
        if holder in dead or (lease_until is not None and lease_until < now)
    ]
    publish_now(lost)
    return len(lost)


def fail_overdue_executions(now: Any) -> int:
    overdue = list(
        Execution.objects.filter(status__in=ACTIVE_EXECUTION_STATUSES, deadline_at__lt=now).values_list(
            "id", flat=True
        )[: LIMITS["SWEEP_BATCH"]]
    )
    for execution_id in overdue:
        with transaction.atomic():
            status = (
                Execution.objects.select_for_update().filter(id=execution_id).values_list("status", flat=True).first()
            )
            if status not in ACTIVE_EXECUTION_STATUSES:
                continue
            fail_execution(
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
    """Retention: executions older than SWITCHBOARD_EXECUTION_RETENTION_DAYS, with their
    node runs and logs, deleted in batches."""
    cutoff = timezone.now() - timedelta(days=LIMITS["EXECUTION_RETENTION_DAYS"])
    deleted = 0
    while True:
        ids = list(Execution.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        Execution.objects.filter(id__in=ids).delete()
        deleted += len(ids)
