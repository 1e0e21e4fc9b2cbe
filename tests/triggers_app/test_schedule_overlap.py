"""Overlap `skip` against a run a real worker is running: a tick that comes while the
previous run's node still runs is recorded skipped and starts nothing; once the run has
completed, the next tick runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from executions_app.models import Execution, ExecutionStatus
from tests.support import clock
from tests.support.definitions import edge, input_node, node
from tests.support.factories import WorkflowFactory
from tests.support.workers import wait_for
from triggers_app.models import ScheduleTick, TickOutcome
from triggers_app.schedules.firing import fire_due

pytestmark = [pytest.mark.worker_thread, pytest.mark.slow]

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SLOW = {
    "nodes": [
        input_node(at={"type": "string"}),
        node("pause", "WAIT", {"seconds": 2}),
        node("result", "OUTPUT", {"value": "done"}),
    ],
    "edges": [edge("start", "pause"), edge("pause", "result")],
}


def test_overlap_skip_while_a_slow_run_is_running(celery_worker: Any, user: Any) -> None:
    workflow = WorkflowFactory(owner=user, definition=SLOW)
    schedule = clock.make_schedule(user, workflow, T0, inputs={"at": "{{ trigger.scheduled_at }}"})

    def runs() -> list[Execution]:
        return list(Execution.objects.filter(trigger=f"schedule:{schedule.id}").order_by("created_at"))

    fire_due(T0)
    [first] = runs()
    wait_for(lambda: Execution.objects.get(id=first.id).status == ExecutionStatus.RUNNING, timeout=30)

    fire_due(T0 + dt.timedelta(minutes=1))  # its WAIT node still runs

    assert runs() == [first]
    skipped = ScheduleTick.objects.get(schedule=schedule, outcome=TickOutcome.SKIPPED)
    assert skipped.scheduled_at == T0 + dt.timedelta(minutes=1)

    wait_for(lambda: Execution.objects.get(id=first.id).status == ExecutionStatus.COMPLETED, timeout=30)
    fire_due(T0 + dt.timedelta(minutes=2))

    assert [run.inputs["at"] for run in runs()] == [T0.isoformat(), (T0 + dt.timedelta(minutes=2)).isoformat()]
