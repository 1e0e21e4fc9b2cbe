"""Clocks for schedule tests.

`python -m tests.support.clock START TICKS GO BATCH`: a clock process with an injected
time. Once the file GO exists (so that several start racing at one moment) it calls
fire_due at START, START + 1 s, ... (TICKS values), BATCH schedules a call, firing at each
moment until nothing due is left: two of them racing on one database fire every tick up
to the last moment between them. A batch smaller than the due schedules keeps both busy:
with SKIP LOCKED, a clock that finds every due row locked by the other moves on.
Run by clock_processes() on the test session's database (its environment names it, as
for worker processes)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def fire_every_second(start: dt.datetime, ticks: int, batch: int) -> int:
    from triggers_app.schedules.firing import fire_due

    claimed = 0
    for second in range(ticks):
        now = start + dt.timedelta(seconds=second)
        while (n := fire_due(now, batch)) > 0:
            claimed += n
    return claimed


def make_schedule(user: Any, workflow: Any, first_at: dt.datetime, **values: Any) -> Any:
    """A schedule (schedule_create, as the API makes it) armed as if created just before
    `first_at`: its next fire time is the first tick at or after it, interval ticks counted
    from it."""
    from triggers_app.schedules.services import schedule_create, timing_of

    if "cron" not in values:
        values.setdefault("interval_s", 60)
    schedule = schedule_create(user=user, workflow_id=workflow.id, **values)
    if schedule.interval_s:
        schedule.anchor_at = first_at
    schedule.next_fire_at = timing_of(schedule).next_after(first_at - dt.timedelta(microseconds=1))
    schedule.save()
    return schedule


T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
ON_TICK = {"text": "{{ trigger.scheduled_at }}"}


def schedule_on_tick(user: Any, workflow: Any, first_at: dt.datetime = T0, **values: Any) -> Any:
    """make_schedule with inputs that carry the tick's time, unless others are given."""
    values.setdefault("inputs", ON_TICK)
    return make_schedule(user, workflow, first_at, **values)


def executions_of(schedule: Any) -> list[Any]:
    from executions_app.models import Execution

    return list(Execution.objects.filter(trigger=f"schedule:{schedule.id}").order_by("created_at"))


def fire_and_end(schedule: Any, now: dt.datetime) -> None:
    """Fires at `now` and ends the run at once, as if a worker had run it (the overlap
    policy then lets the next tick run)."""
    from executions_app.services import execution_cancel
    from triggers_app.schedules.firing import fire_due

    fire_due(now)
    for execution in executions_of(schedule):
        execution_cancel(execution=execution)


def ticks_of(schedule: Any, outcome: str | None = None) -> list[Any]:
    from triggers_app.models import ScheduleTick

    ticks = ScheduleTick.objects.filter(schedule=schedule).order_by("scheduled_at", "id")
    return list(ticks.filter(outcome=outcome) if outcome else ticks)


@contextmanager
def clock_processes(
    count: int, start: dt.datetime, ticks: int, go: Path, batch: int
) -> Iterator[list[subprocess.Popen]]:
    """`count` injected-clock processes on this session's database, let go together once
    all are ready; the block waits for them with communicate() (each prints `claimed N`)."""
    from tests.support.markers import require_marker
    from tests.support.workers import session_database_url

    require_marker("worker_process", "starts clock processes")
    env = {**os.environ, "DATABASE_URL": session_database_url()}
    command = [sys.executable, "-m", "tests.support.clock", start.isoformat(), str(ticks), str(go), str(batch)]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready", process.stderr.read() if process.stderr else ""
        go.touch()
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    start, ticks, go, batch = (
        dt.datetime.fromisoformat(sys.argv[1]),
        int(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)
    print(f"claimed {fire_every_second(start, ticks, batch)}", flush=True)


if __name__ == "__main__":
    main()
