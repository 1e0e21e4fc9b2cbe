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

from executions_app.services import execution_cancel
from tests.support.clock import T0, executions_of, schedule_on_tick, ticks_of
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory
from triggers_app.models import Schedule, TickOutcome
from triggers_app.schedules.firing import fire_due, fire_held, fire_now
from triggers_app.schedules.lag import lag_histogram
from workflows_app.services import workflow_archive

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def workflow(user: Any) -> Any:
    return WorkflowFactory(owner=user, definition=echo_definition())


def test_a_due_tick_fires_once_with_its_fire_time_in_the_inputs(user: Any, workflow: Any) -> None:
    schedule = schedule_on_tick(user, workflow)

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
    schedule = schedule_on_tick(user, workflow, overlap="allow")
    fire_due(T0)
    # An edit saved from a read taken before the tick fired writes the old fire time back.
    Schedule.objects.filter(id=schedule.id).update(next_fire_at=T0)

    fire_due(T0 + dt.timedelta(seconds=1))

    assert len(executions_of(schedule)) == 1
    assert len(ticks_of(schedule, TickOutcome.FIRED)) == 1
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + dt.timedelta(minutes=1)


def test_paused_schedules_do_not_fire(user: Any, workflow: Any) -> None:
    schedule = schedule_on_tick(user, workflow)
    Schedule.objects.filter(id=schedule.id).update(is_paused=True)

    assert fire_due(T0) == 0
    assert executions_of(schedule) == []


def test_overlap_skip_records_a_skipped_tick_while_the_previous_run_goes_on(user: Any, workflow: Any) -> None:
    schedule = schedule_on_tick(user, workflow)  # overlap `skip`, the default
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
    schedule = schedule_on_tick(user, workflow, overlap="queue")
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
    schedule = schedule_on_tick(user, workflow, overlap="allow")
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
    schedule = schedule_on_tick(user, workflow)
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
    schedule = schedule_on_tick(user, workflow, inputs={})  # `text` is required

    fire_due(T0)

    assert executions_of(schedule) == []
    [failed] = ticks_of(schedule)
    assert failed.outcome == TickOutcome.FAILED
    assert failed.detail
    schedule.refresh_from_db()
    assert (schedule.next_fire_at, schedule.stopped_reason) == (T0 + dt.timedelta(minutes=1), "")


def test_one_failing_schedule_leaves_the_others_of_its_batch_fired(user: Any, workflow: Any) -> None:
    good = [schedule_on_tick(user, workflow) for _ in range(3)]
    bad = schedule_on_tick(user, workflow, inputs={})

    assert fire_due(T0) == 4

    assert [len(executions_of(s)) for s in good] == [1, 1, 1]
    assert ticks_of(bad)[0].outcome == TickOutcome.FAILED


def test_run_now_fires_whatever_the_overlap_policy(user: Any, workflow: Any) -> None:
    schedule = schedule_on_tick(user, workflow)
    fire_due(T0)  # a run is going: a tick would be skipped

    execution = fire_now(schedule)

    assert execution.trigger == f"schedule:{schedule.id}"
    assert execution.idempotency_key.startswith(f"schedule:{schedule.id}:now:")
    assert len(executions_of(schedule)) == 2
    assert ticks_of(schedule, TickOutcome.FIRED)[-1].execution_id == execution.id
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + dt.timedelta(minutes=1)  # the timing is unchanged


def test_fired_ticks_feed_the_lag_histogram(user: Any, workflow: Any, django_capture_on_commit_callbacks: Any) -> None:
    schedule_on_tick(user, workflow, first_at=dt.datetime.now(UTC).replace(microsecond=0))
    before = lag_histogram().get("count", 0.0)

    with django_capture_on_commit_callbacks(execute=True):
        fire_due(dt.datetime.now(UTC) + dt.timedelta(seconds=1))

    assert lag_histogram()["count"] == before + 1


def test_the_claim_is_a_row_lock_and_a_conditional_update(user: Any, workflow: Any) -> None:
    schedule_on_tick(user, workflow)

    with CaptureQueriesContext(connection) as queries:
        fire_due(T0)

    sql = [q["sql"] for q in queries.captured_queries]
    claim = [q for q in sql if q.startswith("UPDATE") and "next_fire_at" in q.split("WHERE", 1)[-1]]
    assert len(claim) == 1  # WHERE id = ... AND next_fire_at = <the time read>
    if connection.vendor == "postgresql":  # two clocks split the due rows instead of queueing
        assert any("FOR UPDATE" in q and "SKIP LOCKED" in q for q in sql)
