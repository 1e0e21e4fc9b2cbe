"""Schedules across a DST change and after downtime, with an injected clock: a daily
02:30 in Europe/Berlin fires once on both transition days, and the catch-up policies
record what was missed and run nothing twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.support.clock import T0, executions_of, fire_and_end, schedule_on_tick, ticks_of
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory
from triggers_app.models import TickOutcome
from triggers_app.schedules.firing import fire_due
from triggers_app.schedules.services import timing_of

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def workflow(user: Any) -> Any:
    return WorkflowFactory(owner=user, definition=echo_definition())


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
    schedule = schedule_on_tick(
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
    schedule = schedule_on_tick(user, workflow, misfire_grace_s=10)
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
    schedule = schedule_on_tick(user, workflow, misfire_grace_s=10)
    fire_and_end(schedule, T0)
    fire_due(T0 + dt.timedelta(hours=1, seconds=5))  # the 13:00 tick is 5 s late

    assert [e.inputs["text"] for e in executions_of(schedule)] == [
        T0.isoformat(),
        (T0 + dt.timedelta(hours=1)).isoformat(),
    ]
    [missed] = ticks_of(schedule, TickOutcome.MISSED)
    assert missed.count == 59


def test_downtime_with_run_once_runs_once_for_everything_missed(user: Any, workflow: Any) -> None:
    schedule = schedule_on_tick(user, workflow, misfire_grace_s=10, catch_up="run_once")
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
    schedule = schedule_on_tick(user, workflow, interval_s=1, misfire_grace_s=1, catch_up="run_once")
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
