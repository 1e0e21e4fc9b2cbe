"""The clock: its loop, and clocks racing in separate processes on one database. Each tick
must fire exactly once: one fired tick row and one execution per tick, whichever process
claimed it."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection

from executions_app.models import Execution
from tests.support import clock
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory
from tests.support.workers import WorkerProcess, wait_for
from triggers_app.models import Schedule, ScheduleTick, TickOutcome
from triggers_app.schedules import clock as schedule_clock
from triggers_app.schedules.services import schedule_create

UTC = dt.UTC
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ON_TICK = {"text": "{{ trigger.scheduled_at }}"}


@pytest.fixture
def workflow(user: Any) -> Any:
    return WorkflowFactory(owner=user, definition=echo_definition())


def assert_each_tick_fired_once(schedule: Schedule, expected: list[dt.datetime]) -> None:
    fired = ScheduleTick.objects.filter(schedule=schedule, outcome=TickOutcome.FIRED)
    assert sorted(t.scheduled_at for t in fired) == expected
    keys = Counter(
        Execution.objects.filter(trigger=f"schedule:{schedule.id}").values_list("idempotency_key", flat=True)
    )
    assert sorted(keys) == sorted(f"schedule:{schedule.id}:{at.isoformat()}" for at in expected)
    assert set(keys.values()) == {1}
    assert sorted(fired.values_list("execution_id", flat=True)) == sorted(
        Execution.objects.filter(trigger=f"schedule:{schedule.id}").values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_the_clock_sleeps_until_the_next_due_schedule_but_never_past_its_interval(user: Any, workflow: Any) -> None:
    clock.make_schedule(user, workflow, T0, inputs=ON_TICK)

    assert schedule_clock.sleep_until_next(T0 - dt.timedelta(seconds=0.2), 0.5) == pytest.approx(0.2)
    assert schedule_clock.sleep_until_next(T0 - dt.timedelta(hours=1), 0.5) == 0.5
    assert schedule_clock.sleep_until_next(T0 + dt.timedelta(seconds=3), 0.5) == 0  # overdue: at once


@pytest.mark.django_db
def test_a_turn_fires_what_is_due_and_sleeps_no_longer_than_the_interval(user: Any, workflow: Any) -> None:
    schedule = clock.make_schedule(user, workflow, T0, inputs=ON_TICK, interval_s=1, overlap="allow")

    delay = schedule_clock.step(lambda: T0, 0.5)

    assert 0 <= delay <= 0.5
    assert Execution.objects.filter(trigger=f"schedule:{schedule.id}").count() == 1


@pytest.mark.django_db(transaction=True)  # the loop closes a broken connection: a real one
def test_the_loop_goes_on_after_a_database_error(user: Any, workflow: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = clock.make_schedule(user, workflow, T0, inputs=ON_TICK, interval_s=1, overlap="allow")
    monkeypatch.setattr(schedule_clock, "MAX_BACKOFF_S", 0.01)
    stop = threading.Event()
    looks: list[int] = []

    def now() -> dt.datetime:
        looks.append(1)
        if len(looks) == 1:  # the first turn finds the database gone
            raise OperationalError("server closed the connection unexpectedly")
        if len(looks) >= 4:  # the turn after the one that fired
            stop.set()
        return T0

    schedule_clock.run(stop, clock=now)

    assert Execution.objects.filter(trigger=f"schedule:{schedule.id}").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker_process
@pytest.mark.slow
def test_two_clock_processes_racing_for_60_ticks_fire_each_tick_once(user: Any, workflow: Any, tmp_path: Path) -> None:
    # Load-sized on PostgreSQL only (1,200 executions); SQLite runs a small n.
    count = 20 if connection.vendor == "postgresql" else 3
    # `allow`: no worker runs, so every run stays queued; the policy must not hold ticks back.
    schedules = [
        clock.make_schedule(user, workflow, T0, inputs=ON_TICK, interval_s=1, overlap="allow") for _ in range(count)
    ]

    with clock.clock_processes(2, T0, 60, tmp_path / "go", batch=max(count // 4, 1)) as processes:
        outputs = [process.communicate(timeout=600) for process in processes]

    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-3000:]
    claimed = [int(out.split()[-1]) for out, _ in outputs]
    assert sum(claimed) == count * 60
    assert all(n > 0 for n in claimed), claimed  # both took part in the race
    for schedule in schedules:
        assert_each_tick_fired_once(schedule, [T0 + dt.timedelta(seconds=s) for s in range(60)])


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker_process
@pytest.mark.slow
def test_run_clock_processes_fire_a_one_second_schedule_and_stop_on_sigterm(user: Any, workflow: Any) -> None:
    schedule = schedule_create(user=user, workflow_id=workflow.id, interval_s=1, overlap="allow", inputs=ON_TICK)
    command = [sys.executable, "manage.py", "run_clock"]
    clocks = [WorkerProcess("", 0, "", command=command).start() for _ in range(2)]
    try:
        # Both racing: a clock stopped before its start-up ended would not have raced.
        wait_for(lambda: all("clock: started" in process.log() for process in clocks), timeout=60)
        fired = ScheduleTick.objects.filter(schedule=schedule, outcome=TickOutcome.FIRED)
        wait_for(lambda: fired.count() >= 3, timeout=60)
    finally:
        for process in clocks:
            process.stop()

    for process in clocks:
        assert process.process is not None and process.process.returncode == 0, process.log()[-3000:]
        assert "clock: stopped" in process.log()
    times = sorted(fired.values_list("scheduled_at", flat=True))
    assert_each_tick_fired_once(schedule, times)
    # One second apart, none left out between the first and the last.
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [1.0] * (len(times) - 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker_process
@pytest.mark.server
@pytest.mark.slow
def test_a_clock_outlives_its_redis(user: Any, workflow: Any, own_redis: Any) -> None:
    schedule = schedule_create(user=user, workflow_id=workflow.id, interval_s=1, overlap="allow", inputs=ON_TICK)
    fired = ScheduleTick.objects.filter(schedule=schedule, outcome=TickOutcome.FIRED)
    env = {"REDIS_URL": own_redis.url, "CELERY_BROKER_URL": own_redis.url, "CACHE_REDIS_URL": own_redis.url}
    process = WorkerProcess("", 0, "", extra_env=env, command=[sys.executable, "manage.py", "run_clock"]).start()
    try:
        wait_for(lambda: fired.count() >= 1, timeout=60)
        own_redis.kill()
        # Ticks keep firing: their executions are committed, and the sweeper queues them
        # once the broker is back (each waits out the broker's retries first).
        ticks_before = fired.count()
        wait_for(lambda: fired.count() >= ticks_before + 2, timeout=60)
        own_redis.start()
        ticks_back = fired.count()
        wait_for(lambda: fired.count() >= ticks_back + 2, timeout=60)
        assert process.process is not None and process.process.poll() is None  # still running
    finally:
        process.stop()

    assert process.process.returncode == 0, process.log()[-3000:]
    assert_each_tick_fired_once(schedule, sorted(fired.values_list("scheduled_at", flat=True)))
