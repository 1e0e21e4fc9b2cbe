"""Writes on schedules: create, change (a new expression recomputes the next fire time),
pause and resume. Firing is schedules/firing.py."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.api import Conflict, ValidationFailed
from triggers_app.models import Schedule
from triggers_app.schedules.timing import ScheduleSpecError, Timing, check
from triggers_app.templates_check import SCHEDULE_ROOTS, check_templates
from workflows_app.selectors import workflow_get

EDITABLE_FIELDS = (
    "name",
    "cron",
    "interval_s",
    "timezone",
    "inputs",
    "overlap",
    "catch_up",
    "misfire_grace_s",
)
TIMING_FIELDS = ("cron", "interval_s", "timezone")


def timing_of(schedule: Schedule) -> Timing:
    return Timing(
        cron=schedule.cron,
        interval_s=schedule.interval_s,
        timezone=schedule.timezone,
        anchor=schedule.anchor_at or schedule.created_at or timezone.now(),
    )


def check_schedule(schedule: Schedule) -> None:
    """ValidationFailed naming the field unless the schedule can run."""
    try:
        check(schedule.cron, schedule.interval_s, schedule.timezone)
    except ScheduleSpecError as exc:
        raise ValidationFailed(details={exc.field: [exc.message]}) from None
    check_templates("inputs", schedule.inputs, SCHEDULE_ROOTS)


def _arm(schedule: Schedule) -> None:
    """The next fire time from now, unless paused or stopped."""
    now = timezone.now()
    if schedule.interval_s and schedule.anchor_at is None:
        schedule.anchor_at = now
    schedule.next_fire_at = None if schedule.is_paused else timing_of(schedule).next_after(now)


def schedule_create(*, user: Any, workflow_id: Any, **values: Any) -> Schedule:
    workflow = workflow_get(user, workflow_id)
    values = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
    schedule = Schedule(owner=user, workflow=workflow, **values)
    schedule.cron = schedule.cron or ""
    check_schedule(schedule)
    _arm(schedule)
    schedule.save()
    return schedule


def schedule_update(*, schedule: Schedule, **values: Any) -> Schedule:
    """Changes what the owner may change. A new cron, interval or timezone recomputes the
    next fire time from now; other changes keep it."""
    values = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
    with transaction.atomic():
        # The row as it is now, locked: a clock firing it meanwhile has moved next_fire_at
        # on, and writing back the value read earlier would set it back to a fired tick.
        schedule = Schedule.objects.select_for_update().select_related("workflow").get(pk=schedule.pk)
        retimed = any(k in values and values[k] != getattr(schedule, k) for k in TIMING_FIELDS)
        for name, value in values.items():
            setattr(schedule, name, "" if name == "cron" and value is None else value)
        check_schedule(schedule)
        changed = [*values, "updated_at"]
        if retimed and not schedule.stopped_reason:
            if "interval_s" in values:
                schedule.anchor_at = None
            _arm(schedule)
            changed += ["next_fire_at", "anchor_at"]
        schedule.save(update_fields=changed)
    return schedule


def schedule_pause(*, schedule: Schedule) -> Schedule:
    """No tick fires while paused; resuming starts from the next future tick (the paused
    ones are not made up)."""
    schedule.is_paused = True
    schedule.next_fire_at = None
    schedule.queued_fire_at = None
    schedule.save(update_fields=["is_paused", "next_fire_at", "queued_fire_at", "updated_at"])
    return schedule


def schedule_resume(*, schedule: Schedule) -> Schedule:
    """Runs again from the next future tick. A schedule its workflow stopped resumes only
    once the workflow can run (active and not archived)."""
    workflow = schedule.workflow
    if workflow.archived_at is not None or not workflow.is_active:
        raise Conflict("The schedule's workflow is archived or inactive: activate it first.", code="workflow_inactive")
    schedule.is_paused = False
    schedule.stopped_reason = ""
    _arm(schedule)
    schedule.save(update_fields=["is_paused", "stopped_reason", "next_fire_at", "anchor_at", "updated_at"])
    return schedule
