"""Schedules firing with an injected clock: fire_due and fire_held are given the time, so
a day, a DST change or an hour of downtime passes in a few calls. No worker runs: a fired
tick's execution stays queued, which is a previous run still going for the overlap policy
until the test ends it (execution_cancel)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions_app.models import Execution
from executions_app.services import execution_cancel
from tests.support import clock
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory
from triggers_app.models import Schedule, ScheduleTick, TickOutcome
from triggers_app.schedules.firing import fire_due, fire_held, fire_now
from triggers_app.schedules.lag import lag_histogram
from triggers_app.schedules.services import timing_of
from workflows_app.services import workflow_archive

pytestmark = pytest.mark.django_db

UTC = dt.UTC
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ON_TICK = {"text": "{{ trigger.scheduled_at }}"}


@pytest.fixture
def workflow(user: Any) -> Any:
    return WorkflowFactory(owner=user, definition=echo_definition())


def make_schedule(user: Any, workflow: Any, first_at: dt.datetime = T0, **values: Any) -> Schedule:
    values.setdefault("inputs", ON_TICK)
    return clock.make_schedule(user, workflow, first_at, **values)


def executions_of(schedule: Schedule) -> list[Execution]:
    return list(Execution.objects.filter(trigger=f"schedule:{schedule.id}").order_by("created_at"))


def fire_and_end(schedule: Schedule, now: dt.datetime) -> None:
    """Fires at `now` and ends the run at once, as if a worker had run it (the overlap
    policy then lets the next tick run)."""
    fire_due(now)
    for execution in executions_of(schedule):
        execution_cancel(execution=execution)


def ticks_of(schedule: Schedule, outcome: str | None = None) -> list[ScheduleTick]:
    ticks = ScheduleTick.objects.filter(schedule=schedule).order_by("scheduled_at", "id")
    return list(ticks.filter(outcome=outcome) if outcome else ticks)


def test_a_due_tick_fires_once_with_its_fire_time_in_the_inputs(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow)

    assert fire_due(T0 - dt.timedelta(seconds=1)) == 0  # not yet due
    assert fire_due(T0) == 1
    assert fire_due(T0) == 0  # the same moment again: nothing left to fire

    [execution] = executions_of(schedule)
    assert execution.inputs == {"text": T0.isoformat()}
    assert execution.idempotency_key == f"schedule:{schedule.id}:{T0.isoformat()}"
    [tick] = ticks_of(schedule)
    assert (tick.outcome, tick.scheduled_at, tick.execution_id) == (TickOutcome.FIRED, T0, execution.id)
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + dt.timedelta(minutes=1)
    assert schedule.last_execution_id == execution.id


def test_a_schedule_set_back_to_a_tick_it_fired_does_not_fire_it_again(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, overlap="allow")
    fire_due(T0)
    # An edit saved from a read taken before the tick fired writes the old fire time back.
    Schedule.objects.filter(id=schedule.id).update(next_fire_at=T0)

    fire_due(T0 + dt.timedelta(seconds=1))

    assert len(executions_of(schedule)) == 1
    assert len(ticks_of(schedule, TickOutcome.FIRED)) == 1
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + dt.timedelta(minutes=1)


def test_paused_schedules_do_not_fire(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow)
    Schedule.objects.filter(id=schedule.id).update(is_paused=True)

    assert fire_due(T0) == 0
    assert executions_of(schedule) == []


@pytest.mark.parametrize(
    ("day", "fires_at_utc"),
    [
        # Spring: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and fires at 03:00.
        (dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # Autumn: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice and fires once.
        (dt.date(2026, 10, 25), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_a_daily_0230_berlin_schedule_fires_once_on_dst_days(
    user: Any, workflow: Any, day: dt.date, fires_at_utc: dt.datetime
) -> None:
    berlin_midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=1)))
    start = berlin_midnight - dt.timedelta(hours=1)
    schedule = make_schedule(
        user, workflow, first_at=start, cron="30 2 * * *", timezone="Europe/Berlin", misfire_grace_s=600
    )
    # The clock looks every 5 minutes through the whole local day and a bit more.
    for step in range(0, 26 * 12):
        fire_due(start + dt.timedelta(minutes=5 * step))

    fired = ticks_of(schedule, TickOutcome.FIRED)
    on_the_day = [t for t in fired if t.scheduled_at.astimezone(timing_of(schedule).zone()).date() == day]
    assert [t.scheduled_at for t in on_the_day] == [fires_at_utc]
    local = fires_at_utc.astimezone(timing_of(schedule).zone())
    if day.month == 3:
        assert (local.hour, local.minute, local.utcoffset()) == (3, 0, dt.timedelta(hours=2))  # 03:00 CEST
    assert ticks_of(schedule, TickOutcome.MISSED) == []
    assert len(executions_of(schedule)) == len(fired)


def test_downtime_with_skip_missed_records_the_missed_ticks_and_runs_nothing(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, misfire_grace_s=10)
    fire_and_end(schedule, T0)
    back = T0 + dt.timedelta(hours=1, seconds=30)  # the clock was down for an hour

    assert fire_due(back) == 1

    assert len(executions_of(schedule)) == 1  # the one before the downtime: no storm, no catch-up run
    [missed] = ticks_of(schedule, TickOutcome.MISSED)
    assert missed.count == 60  # 12:01 .. 13:00
    assert missed.scheduled_at == T0 + dt.timedelta(minutes=1)
    assert missed.last_scheduled_at == T0 + dt.timedelta(hours=1)
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + dt.timedelta(hours=1, minutes=1)  # the next future tick
    assert fire_due(back) == 0


def test_downtime_with_skip_missed_still_fires_a_tick_within_its_grace(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, misfire_grace_s=10)
    fire_and_end(schedule, T0)
    fire_due(T0 + dt.timedelta(hours=1, seconds=5))  # the 13:00 tick is 5 s late

    assert [e.inputs["text"] for e in executions_of(schedule)] == [
        T0.isoformat(),
        (T0 + dt.timedelta(hours=1)).isoformat(),
    ]
    [missed] = ticks_of(schedule, TickOutcome.MISSED)
    assert missed.count == 59


def test_downtime_with_run_once_runs_once_for_everything_missed(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, misfire_grace_s=10, catch_up="run_once")
    fire_and_end(schedule, T0)
    back = T0 + dt.timedelta(hours=1, seconds=30)

    assert fire_due(back) == 1
    assert fire_due(back) == 0

    executions = executions_of(schedule)
    assert len(executions) == 2
    assert executions[1].inputs == {"text": (T0 + dt.timedelta(hours=1)).isoformat()}  # the latest missed tick
    [missed] = ticks_of(schedule, TickOutcome.MISSED)
    assert (missed.count, missed.last_scheduled_at) == (59, T0 + dt.timedelta(minutes=59))
    assert "covered by run_once" in missed.detail
    assert [t.scheduled_at for t in ticks_of(schedule, TickOutcome.FIRED)] == [T0, T0 + dt.timedelta(hours=1)]


def test_a_long_downtime_is_counted_without_walking_every_tick(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, interval_s=1, misfire_grace_s=1, catch_up="run_once")
    back = T0 + dt.timedelta(days=2)  # 172,800 one-second ticks

    assert fire_due(back) == 1

    [missed] = ticks_of(schedule, TickOutcome.MISSED)
    assert missed.count == 10_000
    assert missed.detail.startswith("at least 10000 ticks missed")
    assert missed.last_scheduled_at == back - dt.timedelta(seconds=1)
    [run] = executions_of(schedule)
    assert run.inputs == {"text": back.isoformat()}
    schedule.refresh_from_db()
    assert schedule.next_fire_at == back + dt.timedelta(seconds=1)


def test_overlap_skip_records_a_skipped_tick_while_the_previous_run_goes_on(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow)  # overlap `skip`, the default
    fire_due(T0)
    [first] = executions_of(schedule)

    fire_due(T0 + dt.timedelta(minutes=1))  # the first run has not ended

    assert executions_of(schedule) == [first]
    [skipped] = ticks_of(schedule, TickOutcome.SKIPPED)
    assert skipped.scheduled_at == T0 + dt.timedelta(minutes=1)
    execution_cancel(execution=first)
    fire_due(T0 + dt.timedelta(minutes=2))  # it has ended: the next tick runs
    assert len(executions_of(schedule)) == 2


def test_overlap_queue_holds_one_tick_and_fires_it_when_the_run_ends(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, overlap="queue")
    fire_due(T0)
    [first] = executions_of(schedule)
    fire_due(T0 + dt.timedelta(minutes=1))  # held
    fire_due(T0 + dt.timedelta(minutes=2))  # one is held already: skipped

    assert fire_held(T0 + dt.timedelta(minutes=2, seconds=10)) == 0  # the first run goes on
    assert [(t.scheduled_at.minute, t.outcome) for t in ticks_of(schedule)] == [
        (0, TickOutcome.FIRED),
        (1, TickOutcome.QUEUED),
        (2, TickOutcome.SKIPPED),
    ]
    execution_cancel(execution=first)

    assert fire_held(T0 + dt.timedelta(minutes=2, seconds=20)) == 1
    assert fire_held(T0 + dt.timedelta(minutes=2, seconds=20)) == 0

    second = executions_of(schedule)[1]
    assert second.inputs == {"text": (T0 + dt.timedelta(minutes=1)).isoformat()}  # the held tick's time
    assert [(t.scheduled_at.minute, t.outcome) for t in ticks_of(schedule)][1] == (1, TickOutcome.FIRED)
    schedule.refresh_from_db()
    assert (schedule.queued_fire_at, schedule.last_execution_id) == (None, second.id)


def test_overlap_allow_fires_beside_a_running_one(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, overlap="allow")
    fire_due(T0)
    fire_due(T0 + dt.timedelta(minutes=1))

    assert len(executions_of(schedule)) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [("archive", "The workflow was archived."), ("deactivate", "The workflow is inactive.")],
)
def test_an_archived_or_inactive_workflow_stops_its_schedule(
    user: Any, workflow: Any, change: str, reason: str
) -> None:
    schedule = make_schedule(user, workflow)
    if change == "archive":
        workflow_archive(workflow=workflow)
    else:
        type(workflow).objects.filter(id=workflow.id).update(is_active=False)

    assert fire_due(T0) == 1
    assert fire_due(T0 + dt.timedelta(minutes=5)) == 0

    assert executions_of(schedule) == []
    schedule.refresh_from_db()
    assert (schedule.next_fire_at, schedule.stopped_reason) == (None, reason)
    [failed] = ticks_of(schedule)
    assert (failed.outcome, failed.detail) == (TickOutcome.FAILED, reason)


def test_inputs_the_workflow_refuses_fail_the_tick_and_the_schedule_goes_on(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow, inputs={})  # `text` is required

    fire_due(T0)

    assert executions_of(schedule) == []
    [failed] = ticks_of(schedule)
    assert failed.outcome == TickOutcome.FAILED
    assert failed.detail
    schedule.refresh_from_db()
    assert (schedule.next_fire_at, schedule.stopped_reason) == (T0 + dt.timedelta(minutes=1), "")


def test_one_failing_schedule_leaves_the_others_of_its_batch_fired(user: Any, workflow: Any) -> None:
    good = [make_schedule(user, workflow) for _ in range(3)]
    bad = make_schedule(user, workflow, inputs={})

    assert fire_due(T0) == 4

    assert [len(executions_of(s)) for s in good] == [1, 1, 1]
    assert ticks_of(bad)[0].outcome == TickOutcome.FAILED


def test_run_now_fires_whatever_the_overlap_policy(user: Any, workflow: Any) -> None:
    schedule = make_schedule(user, workflow)
    fire_due(T0)  # a run is going: a tick would be skipped

    execution = fire_now(schedule)

    assert execution.trigger == f"schedule:{schedule.id}"
    assert execution.idempotency_key.startswith(f"schedule:{schedule.id}:now:")
    assert len(executions_of(schedule)) == 2
    assert ticks_of(schedule, TickOutcome.FIRED)[-1].execution_id == execution.id
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + dt.timedelta(minutes=1)  # the timing is unchanged


def test_fired_ticks_feed_the_lag_histogram(user: Any, workflow: Any, django_capture_on_commit_callbacks: Any) -> None:
    make_schedule(user, workflow, first_at=dt.datetime.now(UTC).replace(microsecond=0))
    before = lag_histogram().get("count", 0.0)

    with django_capture_on_commit_callbacks(execute=True):
        fire_due(dt.datetime.now(UTC) + dt.timedelta(seconds=1))

    assert lag_histogram()["count"] == before + 1


def test_the_claim_is_a_row_lock_and_a_conditional_update(user: Any, workflow: Any) -> None:
    make_schedule(user, workflow)

    with CaptureQueriesContext(connection) as queries:
        fire_due(T0)

    sql = [q["sql"] for q in queries.captured_queries]
    claim = [q for q in sql if q.startswith("UPDATE") and "next_fire_at" in q.split("WHERE", 1)[-1]]
    assert len(claim) == 1  # WHERE id = ... AND next_fire_at = <the time read>
    if connection.vendor == "postgresql":  # two clocks split the due rows instead of queueing
        assert any("FOR UPDATE" in q and "SKIP LOCKED" in q for q in sql)
