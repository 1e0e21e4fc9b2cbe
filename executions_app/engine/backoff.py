"""A failed attempt that may be retried goes back to pending, due after its backoff; its
message is published with that countdown after the change commits. A backoff longer than
retry_countdown_max_s is a durable timer instead: the node waits (engine/wakes.py). (An execution's
retry, a new execution reusing outputs, is executions_app/retry.py.)"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions_app import events
from executions_app.engine.publish import Publish, publish_on_commit
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, NodeRun, NodeRunStatus
from workflows_app.graph import RetryPolicy
from workflows_app.node_options import MAX_BACKOFF_S


def backoff_delay(retry: RetryPolicy, attempt: int, retry_after_s: float | None) -> float:
    """Exponential backoff with jitter, capped; never sooner than a Retry-After, which is
    itself capped so a waiting message stays inside the broker's visibility timeout."""
    base = min(retry.max_backoff_s, retry.backoff_s * 2.0 ** (attempt - 1))
    delay = base * random.uniform(0.5, 1.0)
    return min(max(delay, retry_after_s or 0.0), longest_backoff_s())


def longest_backoff_s() -> float:
    """The longest a retry waits: the largest `retry.max_backoff_s` a definition may set,
    or a Retry-After honoured beyond it, whichever is longer."""
    return max(MAX_BACKOFF_S, settings.SWITCHBOARD.http_max_retry_after_s)


def schedule_retry(
    *,
    execution_id: Any,
    node_id: str,
    node_run_id: int,
    attempt: int,
    attempt_log: list[Any],
    entries: list[dict[str, Any]],
    error: dict[str, Any],
    delay_s: float,
    publish: Publish,
) -> bool:
    """Puts a failed attempt back to pending, due after its backoff. The sweeper finds it
    by ready_at if the delayed message is lost. When the execution ended while the attempt
    ran (canceled, failed elsewhere, timed out), nothing more starts: the attempt's failure
    is the node's last word, and False is returned."""
    now = timezone.now()
    this_attempt = NodeRun.objects.filter(id=node_run_id, status=NodeRunStatus.RUNNING, attempts=attempt)
    with transaction.atomic():
        # Locked as a completion locks it, so an ending execution and this retry do not cross.
        status = (
            Execution.objects.select_for_update(no_key=True).filter(id=execution_id).values_list("status", flat=True)
        )
        if status.first() not in ACTIVE_EXECUTION_STATUSES:
            ended = this_attempt.update(
                status=NodeRunStatus.FAILED,
                attempt_log=[*attempt_log, *entries],
                error=error,
                lease_until=None,
                finished_at=now,
            )
            if ended:
                events.emit_after_commit(execution_id, [events.node_event(node_id, NodeRunStatus.FAILED)])
            return False
        due = now + timedelta(seconds=delay_s)
        if delay_s > settings.SWITCHBOARD.retry_countdown_max_s:
            # A long backoff is a durable timer (the timer loop wakes it), not a countdown
            # the broker and a worker hold in memory. Waking it is a run, not a resume.
            waiting_on = {"kind": "timer", "until": due.isoformat(), "node_id": node_id, "retry": True}
            written = this_attempt.update(
                status=NodeRunStatus.WAITING,
                attempt_log=[*attempt_log, *entries],
                error=error,
                lease_until=None,
                claimed_by="",
                wake_at=due,
                waiting_on=waiting_on,
            )
            if written:
                node_event = events.node_event(
                    node_id, NodeRunStatus.WAITING, retry_in_s=delay_s, waiting_on=waiting_on
                )
                events.emit_after_commit(execution_id, [node_event])
            return bool(written)
        written = this_attempt.update(
            status=NodeRunStatus.PENDING,
            attempt_log=[*attempt_log, *entries],
            error=error,
            lease_until=None,
            ready_at=due,
        )
        if written:
            events.emit_after_commit(
                execution_id, [events.node_event(node_id, NodeRunStatus.PENDING, retry_in_s=delay_s)]
            )
            publish_on_commit([replace(publish, countdown=delay_s)])
    return bool(written)
