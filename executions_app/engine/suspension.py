"""A node run that ends its attempt suspended (its run() returned Suspend) is written
`waiting`, fenced by the attempt like any completion: no lease, no holder, no message.

What it waits on is kept on the row (waiting_on) for the API, the admin, the dashboard and
the events; its timer is wake_at, which the timer loop wakes (engine/wakes.py). A wake
that came while the node was running (a child ended meanwhile: wakes.request_wake set
wake_at to now) is kept, so the suspension is woken at once instead of missing it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from executions_app import events
from executions_app.engine.wakes import wake_node
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, NodeRun, NodeRunStatus
from workflows_app.nodes.base import Suspend


def waiting_on_of(node_id: str, suspend: Suspend) -> dict[str, Any]:
    """What the execution shows for the node: the node's own words, its id, and for a
    timer the time it wakes."""
    shown = {**suspend.waiting_on, "node_id": node_id}
    if shown.get("kind") == "timer" and suspend.wake_at is not None:
        shown.setdefault("until", suspend.wake_at.isoformat())
    return shown


def suspend_node(
    *,
    node_run_id: int,
    execution_id: Any,
    node_id: str,
    attempt: int,
    suspend: Suspend,
    started_events: list[dict[str, Any]],
) -> bool:
    """Writes the attempt's suspension. False when the attempt lost its claim (nothing is
    written) or the execution ended while it ran (the node is then canceled: nothing
    more starts in an ended execution)."""
    now = timezone.now()
    this_attempt = NodeRun.objects.filter(id=node_run_id, status=NodeRunStatus.RUNNING, attempts=attempt)
    waiting_on = waiting_on_of(node_id, suspend)
    with transaction.atomic():
        # Locked as a completion locks it, so an ending execution and this wait do not cross.
        status = (
            Execution.objects.select_for_update(no_key=True).filter(id=execution_id).values_list("status", flat=True)
        )
        if status.first() not in ACTIVE_EXECUTION_STATUSES:
            if this_attempt.update(status=NodeRunStatus.CANCELED, lease_until=None, finished_at=now):
                node_events = [*started_events, events.node_event(node_id, NodeRunStatus.CANCELED)]
                events.emit_after_commit(execution_id, node_events)
            return False
        written = this_attempt.update(
            status=NodeRunStatus.WAITING,
            waiting_on=waiting_on,
            state=suspend.state,
            # A wake requested while the node ran (wake_at already set) stands.
            wake_at=Coalesce(F("wake_at"), Value(suspend.wake_at, output_field=DateTimeField())),
            resumes=F("resumes") + 1,
            lease_until=None,
            claimed_by="",
        )
        if not written:
            return False
        events.emit_after_commit(
            execution_id, [*started_events, events.node_event(node_id, NodeRunStatus.WAITING, waiting_on=waiting_on)]
        )
        wake_at, attempts = NodeRun.objects.values_list("wake_at", "attempts").get(id=node_run_id)
        if wake_at is not None and wake_at <= timezone.now():
            wake_node(node_run_id, generation=attempts, reason="child" if suspend.wake_at is None else "timer")
    return True
