"""Schedule lag as a user sees it: from a tick's fire time to its execution's start (a
worker claiming its first node), on the tick and in /metrics."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from executions_app.models import Execution
from tests.support import clock
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory
from tests.support.workers import wait_for
from triggers_app.models import ScheduleTick, TickOutcome
from triggers_app.schedules.clock import step
from triggers_app.schedules.lag import observe_started

pytestmark = pytest.mark.django_db(transaction=True)


def lag_count() -> float:
    text = Client().get("/metrics").content.decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = families["switchboard_schedule_lag_seconds"].samples
    return next(s.value for s in samples if s.name == "switchboard_schedule_lag_seconds_count")


@pytest.mark.worker_thread
def test_a_fired_tick_learns_its_lag_to_the_start_once_a_worker_starts_it(celery_worker, user: Any) -> None:
    workflow = WorkflowFactory(owner=user, definition=echo_definition())
    first_at = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=1)
    schedule = clock.make_schedule(user, workflow, first_at, interval_s=3600, inputs={"text": "tick"})
    before = lag_count()

    wait_for(lambda: step(timezone.now, 0.1) is not None and ScheduleTick.objects.filter(schedule=schedule).exists())
    tick = ScheduleTick.objects.get(schedule=schedule)
    assert tick.outcome == TickOutcome.FIRED
    started = wait_for(lambda: Execution.objects.get(id=tick.execution_id).started_at)

    # The clock's next turn sees the start (the turn that fired it may have, too).
    wait_for(
        lambda: observe_started(timezone.now()) >= 0 and ScheduleTick.objects.get(id=tick.id).start_lag_ms is not None
    )
    assert observe_started(timezone.now()) == 0  # seen once, whichever clock looks again
    tick.refresh_from_db()
    assert tick.start_lag_ms == int((started - first_at).total_seconds() * 1000)
    assert lag_count() == before + 1
