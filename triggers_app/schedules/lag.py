"""Schedule lag, kept as Redis counters in the shape of the execution duration histogram
(cumulative `le:<seconds>` buckets, `count`, `sum`), so that every process's ticks add up
in one place and the metrics collector reads them at scrape time. Two of them:

- `created`: from a tick's fire time to its execution's creation (the clock's own lag),
  known when the tick fires;
- `started`: from the fire time to the execution's start (its first node claimed by a
  worker), the lag a user sees. The engine does not know which executions a schedule
  made, so the clock looks for ticks whose execution has started since its last turn
  (observe_started), and writes the lag on the tick too."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from triggers_app.models import ScheduleTick, TickOutcome

logger = logging.getLogger(__name__)

LAG_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


# Ticks fired longer ago than this whose execution never started (canceled while
# queued, say) are no longer looked at.
OBSERVE_WINDOW = dt.timedelta(hours=1)
OBSERVE_BATCH = 500


def lag_key(kind: str = "created") -> str:
    return ":".join(
        [settings.REDIS_KEY_PREFIX, "metrics", "schedule_lag" if kind == "created" else f"schedule_{kind}_lag"]
    )


def record_lags(lags_s: Iterable[float], client: Any = None, kind: str = "created") -> None:
    """Adds the lags to the histogram in one round trip. A Redis failure loses these
    samples, never a tick: it is logged and swallowed."""
    lags = list(lags_s)
    if not lags:
        return
    try:
        pipe = (client or get_redis_connection("default")).pipeline(transaction=False)
        name = lag_key(kind)
        for seconds in lags:
            for bound in LAG_BUCKETS_S:
                if seconds <= bound:
                    pipe.hincrby(name, f"le:{bound}", 1)
            pipe.hincrby(name, "count", 1)
            pipe.hincrbyfloat(name, "sum", max(seconds, 0.0))
        pipe.execute()
    except Exception as exc:  # one line, no traceback: it repeats every tick while Redis is down
        logger.warning("schedule lag: could not record %d samples (%s: %s)", len(lags), type(exc).__name__, exc)


def lag_histogram(client: Any = None, kind: str = "created") -> dict[str, float]:
    """Cumulative bucket counts (`le:<seconds>` for each of LAG_BUCKETS_S), `count` and
    `sum` (seconds): what a Prometheus histogram family is made from."""
    raw = (client or get_redis_connection("default")).hgetall(lag_key(kind))
    return {k.decode(): float(v) for k, v in raw.items()}


def observe_started(now: dt.datetime, limit: int = OBSERVE_BATCH) -> int:
    """Ticks fired within OBSERVE_WINDOW whose execution has started since: their lag to
    the start, written on the tick (once, whichever clock gets there) and counted in the
    `started` histogram. Returns how many were seen."""
    pending = (
        ScheduleTick.objects.filter(
            outcome=TickOutcome.FIRED,
            start_lag_ms__isnull=True,
            recorded_at__gte=now - OBSERVE_WINDOW,
            execution__started_at__isnull=False,
        )
        .order_by()
        .values_list("id", "scheduled_at", "execution__started_at")[:limit]
    )
    seen: list[float] = []
    for tick_id, scheduled_at, started_at in pending:
        if started_at is None:  # the filter excludes it; the type of a joined column does not say so
            continue
        lag_ms = max(int((started_at - scheduled_at).total_seconds() * 1000), 0)
        if ScheduleTick.objects.filter(id=tick_id, start_lag_ms__isnull=True).update(start_lag_ms=lag_ms):
            seen.append(lag_ms / 1000)
    record_lags(seen, kind="started")
    return len(seen)
