"""A failed attempt that may be retried goes back to pending, due after its backoff; its
message is published with that countdown after the change commits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions_app import events
from executions_app.engine.publish import Publish, publish_on_commit
from executions_app.models import NodeRun, NodeRunStatus


def schedule_retry(
    *,
    execution_id: Any,
    node_id: str,
    node_run_id: int,
    attempt: int,
    attempt_log: list,
    entries: list[dict],
    error: dict,
    delay_s: float,
    publish: Publish,
) -> bool:
    """Puts a failed attempt back to pending, due after its backoff. The sweeper finds it
    by ready_at if the delayed message is lost."""
    now = timezone.now()
    with transaction.atomic():
        written = NodeRun.objects.filter(id=node_run_id, status=NodeRunStatus.RUNNING, attempts=attempt).update(
            status=NodeRunStatus.PENDING,
            attempt_log=[*attempt_log, *entries],
            error=error,
            lease_until=None,
            ready_at=now + timedelta(seconds=delay_s),
        )
        if written:
            events.emit_after_commit(
                execution_id, [events.node_event(node_id, NodeRunStatus.PENDING, retry_in_s=delay_s)]
            )
            publish_on_commit([replace(publish, countdown=delay_s)])
    return bool(written)
