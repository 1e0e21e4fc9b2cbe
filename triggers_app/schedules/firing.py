"""Fires schedules: exactly once per tick, whatever the number of clock processes.

The claim is the move of a schedule's `next_fire_at`, made in the transaction that also
creates the tick's execution and records the tick: a crash before the commit leaves the
tick due (a clock fires it again), a commit leaves it fired; never half of each. On
PostgreSQL the due rows are read with SELECT ... FOR UPDATE SKIP LOCKED, so two clocks
split the due rows instead of queueing behind each other. Every database then writes the
tick's outcome with one UPDATE conditional on the fire time read (WHERE next_fire_at =
...): on SQLite, which has no row locks, that UPDATE is the claim (no row changed: another
clock won, and the savepoint, this tick's execution with it, is rolled back). The
execution's idempotency key, `schedule:<id>:<fire time>`, would refuse a second run of one
tick even so.

Several schedules share one transaction (throughput), each in a savepoint: one that fails
rolls back alone. Executions are published when the transaction commits (execution_create
works inside an outer atomic); a lost publish is the sweeper's, as for any execution."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.api import AppError, Conflict, NotFound
from core.json_text import format_path
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution
from executions_app.services import execution_create
from triggers_app.models import CatchUp, Overlap, Schedule, ScheduleTick, TickOutcome
from triggers_app.schedules import catchup
from triggers_app.schedules.lag import record_lags
from triggers_app.schedules.services import timing_of
from triggers_app.templates_check import SCHEDULE_ROOTS
from workflows_app.expressions import ExpressionError, compile_value, render_value

logger = logging.getLogger(__name__)
LIMITS = settings.SWITCHBOARD
DETAIL_MAX = ScheduleTick._meta.get_field("detail").max_length or 500
REASON_MAX = Schedule._meta.get_field("stopped_reason").max_length or 200


class _Lost(Exception):
    """Another clock moved the schedule first: nothing of this claim is kept."""


def fire_due(now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Fires the schedules due at `now` (the present by default), at most `limit`
    (clock_batch) of them, in one transaction. Returns how many this process claimed: each
    claimed schedule's due tick is fired, skipped, held, missed or failed, and recorded."""
    now = now or timezone.now()
    lags: list[float] = []
    claimed = 0
    with transaction.atomic():
        due = _locked(Schedule.objects.filter(is_paused=False, next_fire_at__lte=now).order_by("next_fire_at"))
        for schedule in due[: limit or LIMITS.clock_batch]:
            claimed += _claim_and_fire(schedule, now, lags)
        transaction.on_commit(lambda: record_lags(lags))
    return claimed


def fire_held(now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Fires the ticks overlap `queue` held, of the schedules whose previous run has ended.
    Returns how many it fired. Cheap when none is held: one query on `queued_fire_at`."""
    now = now or timezone.now()
    fired = 0
    with transaction.atomic():
        held = _locked(
            Schedule.objects.filter(queued_fire_at__isnull=False, is_paused=False)
            .exclude(last_execution__status__in=ACTIVE_EXECUTION_STATUSES)
            .order_by("queued_fire_at")
        )
        for schedule in held[: limit or LIMITS.clock_batch]:
            fired += _release_held(schedule, now)
    return fired


def fire_now(schedule: Schedule) -> Execution:
    """The owner's "run now": one execution at once, recorded as a fired tick at the
    present. The overlap policy does NOT apply (the owner asked for this very run: skipping
    or holding it would drop a request), and the next fire time stays as it is. Raises the
    API's errors: Conflict when the workflow is archived or inactive, ValidationFailed for
    inputs its INPUT node refuses."""
    reason = _stop_reason(schedule)
    if reason:
        raise Conflict(reason, code="workflow_inactive")
    now = timezone.now()
    with transaction.atomic():
        execution, _ = execution_create(
            user=schedule.owner,
            workflow_id=schedule.workflow_id,
            inputs=_inputs(schedule, now, now),
            idempotency_key=f"schedule:{schedule.id}:now:{uuid.uuid4()}",
            trigger=f"schedule:{schedule.id}",
        )
        ScheduleTick.objects.create(
            schedule=schedule, scheduled_at=now, outcome=TickOutcome.FIRED, execution=execution, detail="Run now."
        )
        Schedule.objects.filter(id=schedule.id).update(last_execution=execution)
    schedule.last_execution = execution
    return execution


# --- claims ------------------------------------------------------------------------------
def _locked(rows: QuerySet[Schedule]) -> QuerySet[Schedule]:
    # The previous run's status comes with the row (the overlap policy reads it): one query
    # less per tick than asking for it.
    rows = rows.select_related("workflow", "owner").annotate(last_run_status=F("last_execution__status"))
    if connection.features.has_select_for_update_skip_locked:
        # Only the schedule rows: the workflow and the user are read, not claimed.
        return rows.select_for_update(skip_locked=True, of=("self",))
    return rows


def _claim_and_fire(schedule: Schedule, now: dt.datetime, lags: list[float]) -> int:
    claimed_at = schedule.next_fire_at
    assert claimed_at is not None, "only due schedules are claimed"
    try:
        with transaction.atomic():
            _fire_claimed(schedule, claimed_at, now, lags)
        return 1
    except _Lost:
        return 0
    except (OperationalError, InterfaceError):
        raise  # the database went away: the clock backs off, the batch is not committed
    except Exception as exc:  # a fault of this schedule alone: record it and go on
        logger.warning("schedule %s: tick %s failed", schedule.id, claimed_at.isoformat(), exc_info=True)
        with transaction.atomic():
            _record(schedule, claimed_at, TickOutcome.FAILED, f"The tick could not be fired: {type(exc).__name__}.")
            try:
                following = timing_of(schedule).next_after(max(claimed_at, now))
            except Exception:
                reason = "The schedule's timing could not be computed."
                Schedule.objects.filter(id=schedule.id).update(next_fire_at=None, stopped_reason=reason)
            else:
                Schedule.objects.filter(id=schedule.id).update(next_fire_at=following)
        return 1


def _fire_claimed(schedule: Schedule, claimed_at: dt.datetime, now: dt.datetime, lags: list[float]) -> None:
    steps = catchup.plan(timing_of(schedule), claimed_at, now, schedule.misfire_grace_s, schedule.catch_up)
    schedule.next_fire_at = steps.next_fire_at
    if steps.missed is not None:
        missed = steps.missed
        covered = steps.fire_at is not None and schedule.catch_up == CatchUp.RUN_ONCE
        count = f"at least {missed.count}" if missed.at_least else str(missed.count)
        detail = f"{count} ticks missed while no clock ran" + ("; covered by run_once." if covered else ".")
        ScheduleTick.objects.create(
            schedule=schedule,
            scheduled_at=missed.first,
            last_scheduled_at=missed.last,
            count=missed.count,
            outcome=TickOutcome.MISSED,
            detail=detail,
        )
        logger.debug("schedule %s: %s ticks missed from %s", schedule.id, count, missed.first.isoformat())
    tick = _fire_tick(schedule, steps.fire_at, now, apply_overlap=True) if steps.fire_at else None
    # The claim: the schedule moves on only from the fire time this process read. On
    # PostgreSQL the row lock already guarantees it; on SQLite this is what decides.
    _save_outcome(schedule, next_fire_at=claimed_at, is_paused=False)
    if steps.fire_at is not None and tick is not None and tick.outcome == TickOutcome.FIRED:
        lags.append(max((tick.recorded_at - steps.fire_at).total_seconds(), 0.0))


def _release_held(schedule: Schedule, now: dt.datetime) -> int:
    held_at = schedule.queued_fire_at
    assert held_at is not None, "only held ticks are released"
    try:
        with transaction.atomic():
            schedule.queued_fire_at = None
            tick = _fire_tick(schedule, held_at, now, apply_overlap=False, held=True)
            _save_outcome(schedule, queued_fire_at=held_at)
        return int(tick is not None and tick.outcome == TickOutcome.FIRED)
    except _Lost:
        return 0


# --- one tick ----------------------------------------------------------------------------
def _fire_tick(
    schedule: Schedule, fire_at: dt.datetime, now: dt.datetime, *, apply_overlap: bool, held: bool = False
) -> ScheduleTick | None:
    """Fires the tick at `fire_at` unless the workflow stopped the schedule or the overlap
    policy holds it back; records what became of it (for a held tick: updates its row)."""
    reason = _stop_reason(schedule)
    if reason:
        _stop(schedule, reason)
        logger.warning("schedule %s stopped: %s", schedule.id, reason)
        return _record(schedule, fire_at, TickOutcome.FAILED, reason, held=held)
    if apply_overlap and schedule.overlap != Overlap.ALLOW and _previous_run_going(schedule):
        if schedule.overlap == Overlap.QUEUE and schedule.queued_fire_at is None:
            schedule.queued_fire_at = fire_at
            return _record(schedule, fire_at, TickOutcome.QUEUED, "Held until the previous run ends.")
        detail = (
            "The previous run was still going and one tick is already held."
            if schedule.overlap == Overlap.QUEUE
            else "The previous run was still going."
        )
        return _record(schedule, fire_at, TickOutcome.SKIPPED, detail)
    try:
        with transaction.atomic():
            execution, created = execution_create(
                user=schedule.owner,
                workflow_id=schedule.workflow_id,
                inputs=_inputs(schedule, fire_at, now),
                idempotency_key=f"schedule:{schedule.id}:{fire_at.isoformat()}",
                trigger=f"schedule:{schedule.id}",
                # Read with the locked row; the claim makes the key new (a re-fire of a
                # passed tick still meets the key's unique constraint).
                workflow=schedule.workflow,
                key_is_new=True,
            )
    except AppError as exc:
        if isinstance(exc, NotFound) or exc.code == "workflow_inactive":
            # The workflow went away between the check above and the run.
            _stop(schedule, exc.message)
        logger.warning("schedule %s: tick %s failed: %s", schedule.id, fire_at.isoformat(), exc.message)
        return _record(schedule, fire_at, TickOutcome.FAILED, exc.message, held=held)
    if not created:
        # This tick's execution exists already: something set the schedule back to a fire
        # time it had passed (an edit saved from a stale read). Nothing runs twice.
        logger.warning("schedule %s: tick %s had fired already", schedule.id, fire_at.isoformat())
        return None
    schedule.last_execution = execution
    logger.debug("schedule %s: tick %s fired as execution %s", schedule.id, fire_at.isoformat(), execution.id)
    detail = f"Held until the previous run ended; fired at {now.isoformat()}." if held else ""
    return _record(schedule, fire_at, TickOutcome.FIRED, detail, execution=execution, held=held)


def _inputs(schedule: Schedule, fire_at: dt.datetime, now: dt.datetime) -> Any:
    """The schedule's inputs rendered with the tick. Raises ExpressionError (an AppError)
    when a template fails: compiled with the names a schedule's templates read (saving
    checked them, so this is a template saved before a rule changed)."""
    compiled, problems = compile_value(schedule.inputs, roots=SCHEDULE_ROOTS)
    if problems:
        location, error = problems[0]
        raise ExpressionError(f"inputs {format_path(location) or '(root)'}: {error.message}")
    trigger = {"scheduled_at": fire_at.isoformat(), "schedule_id": str(schedule.id), "fired_at": now.isoformat()}
    return render_value(compiled, {"trigger": trigger})


def _previous_run_going(schedule: Schedule) -> bool:
    if schedule.last_execution_id is None:
        return False
    status = getattr(schedule, "last_run_status", None)  # read with the row (_locked)
    if status is not None:
        return status in ACTIVE_EXECUTION_STATUSES
    return Execution.objects.filter(id=schedule.last_execution_id, status__in=ACTIVE_EXECUTION_STATUSES).exists()


def _stop_reason(schedule: Schedule) -> str:
    workflow = schedule.workflow
    if workflow.archived_at is not None:
        return "The workflow was archived."
    if not workflow.is_active:
        return "The workflow is inactive."
    return ""


def _stop(schedule: Schedule, reason: str) -> None:
    """The schedule fires no more until its owner resumes it (services.schedule_resume);
    saved with the tick's outcome."""
    schedule.next_fire_at, schedule.queued_fire_at, schedule.stopped_reason = None, None, reason[:REASON_MAX]


def _save_outcome(schedule: Schedule, **claim: Any) -> None:
    """Writes what the tick changed, in one UPDATE conditional on the claim (the value this
    process read); _Lost when another process changed it first."""
    moved = Schedule.objects.filter(id=schedule.id, **claim).update(
        next_fire_at=schedule.next_fire_at,
        queued_fire_at=schedule.queued_fire_at,
        last_execution_id=schedule.last_execution_id,
        stopped_reason=schedule.stopped_reason,
    )
    if moved != 1:
        raise _Lost


def _record(
    schedule: Schedule,
    scheduled_at: dt.datetime,
    outcome: str,
    detail: str,
    *,
    execution: Execution | None = None,
    held: bool = False,
) -> ScheduleTick:
    detail = detail[:DETAIL_MAX]
    if held:
        tick = ScheduleTick.objects.filter(
            schedule=schedule, scheduled_at=scheduled_at, outcome=TickOutcome.QUEUED
        ).first()
        if tick is not None:
            tick.outcome, tick.detail, tick.execution = outcome, detail, execution
            tick.save(update_fields=["outcome", "detail", "execution"])
            return tick
    return ScheduleTick.objects.create(
        schedule=schedule, scheduled_at=scheduled_at, outcome=outcome, detail=detail, execution=execution
    )
