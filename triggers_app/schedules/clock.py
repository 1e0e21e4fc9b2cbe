"""The clock: a loop that fires due schedules, wakes waiting nodes whose timer is due (the
engine's timer loop, executions_app/engine/wakes.py), and sleeps until the next one is due, never
longer than clock_interval_s (0.5 s), so a tick fires at most that late when the clock is
idle. Any number of clocks may run (firing.py makes each tick fire once); `manage.py
run_clock` runs one, the Procfile's `clock` entry.

The loop outlives its database and Redis: an error is logged, the clock waits (longer
after each failure in a row, at most MAX_BACKOFF_S) and tries again with a new connection."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from executions_app.engine.wakes import next_wake_at, wake_due
from triggers_app.models import Schedule
from triggers_app.schedules.firing import fire_due, fire_held
from triggers_app.schedules.lag import observe_started

logger = logging.getLogger(__name__)
LIMITS = settings.SWITCHBOARD
MAX_BACKOFF_S = 10.0
MIN_SLEEP_S = 0.05


def run(stop: threading.Event, *, clock: Callable[[], dt.datetime] = timezone.now) -> None:
    """Fires schedules until `stop` is set. `clock` says what time it is (tests may give
    another)."""
    interval = min(LIMITS.clock_interval_s, 0.5)
    failures = 0
    while not stop.is_set():
        try:
            close_old_connections()
            delay = step(clock, interval)
            failures = 0
        except Exception:
            failures += 1
            delay = min(interval * 2**failures, MAX_BACKOFF_S)
            logger.warning(
                "clock: could not fire schedules (failure %d in a row), again in %.1fs", failures, delay, exc_info=True
            )
            _drop_connection()
        stop.wait(delay)


def step(clock: Callable[[], dt.datetime], interval: float) -> float:
    """One turn: fire what is due and what was held, then say how long to sleep."""
    batch = LIMITS.clock_batch
    now = clock()
    claimed = fire_due(now, batch)
    released = fire_held(now, batch)
    # The engine's timer loop turns here too: waiting nodes whose wake_at passed.
    woken = wake_due(now, batch)
    if claimed >= batch or released >= batch or woken >= batch:
        return 0.0  # more are due: no sleep
    observe_started(now)
    delay = sleep_until_next(clock(), interval)
    if not claimed and not released and not woken:
        # Due rows this turn could not claim are another clock's, locked while it fires
        # them: a short pause instead of asking again at full speed.
        delay = max(delay, MIN_SLEEP_S)
    return delay


def sleep_until_next(now: dt.datetime, interval: float) -> float:
    """Seconds to the next due fire time of an unpaused schedule or the next waiting
    node's timer, within [0, interval]."""
    upcoming = (
        Schedule.objects.filter(is_paused=False, next_fire_at__isnull=False)
        .order_by("next_fire_at")
        .values_list("next_fire_at", flat=True)
        .first()
    )
    times = [moment for moment in (upcoming, next_wake_at()) if moment is not None]
    if not times:
        return interval
    return max(0.0, min(interval, (min(times) - now).total_seconds()))


def _drop_connection() -> None:
    """A broken connection is closed so that the next turn opens a new one."""
    try:
        connection.close()
    except Exception:
        logger.debug("clock: closing the broken connection failed", exc_info=True)
