"""Retention of the triggers' logs: deliveries and ticks are kept as long as executions
(SWITCHBOARD_EXECUTION_RETENTION_DAYS), then deleted in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from triggers_app.models import Delivery, ScheduleTick


def _prune(rows: QuerySet[Any], field: str, cutoff: Any, batch: int) -> int:
    deleted = 0
    while True:
        ids = list(rows.filter(**{f"{field}__lt": cutoff}).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        rows.filter(pk__in=ids).delete()
        deleted += len(ids)


def prune_old_trigger_logs(batch: int = 1000) -> int:
    """Deliveries and ticks older than the executions' retention; how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.SWITCHBOARD.execution_retention_days)
    deliveries = _prune(Delivery.objects.all(), "received_at", cutoff, batch)
    return deliveries + _prune(ScheduleTick.objects.all(), "recorded_at", cutoff, batch)
