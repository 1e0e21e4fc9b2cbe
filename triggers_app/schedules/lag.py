"""Schedule lag, kept as Redis counters in the shape of the execution duration histogram
(cumulative `le:<seconds>` buckets, `count`, `sum`), so that every process's ticks add up
in one place and the metrics collector reads them at scrape time.

The lag measured is from a tick's fire time to its execution's creation (the moment the
tick is recorded, `ScheduleTick.recorded_at`): it is known when the tick fires. The wait
from creation to a worker's start is the queue's, measured by the execution metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

LAG_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


def lag_key() -> str:
    return ":".join([settings.REDIS_KEY_PREFIX, "metrics", "schedule_lag"])


def record_lags(lags_s: Iterable[float], client: Any = None) -> None:
    """Adds the lags to the histogram in one round trip. A Redis failure loses these
    samples, never a tick: it is logged and swallowed."""
    lags = list(lags_s)
    if not lags:
        return
    try:
        pipe = (client or get_redis_connection("default")).pipeline(transaction=False)
        name = lag_key()
        for seconds in lags:
            for bound in LAG_BUCKETS_S:
                if seconds <= bound:
                    pipe.hincrby(name, f"le:{bound}", 1)
            pipe.hincrby(name, "count", 1)
            pipe.hincrbyfloat(name, "sum", max(seconds, 0.0))
        pipe.execute()
    except Exception as exc:  # one line, no traceback: it repeats every tick while Redis is down
        logger.warning("schedule lag: could not record %d samples (%s: %s)", len(lags), type(exc).__name__, exc)


def lag_histogram(client: Any = None) -> dict[str, float]:
    """Cumulative bucket counts (`le:<seconds>` for each of LAG_BUCKETS_S), `count` and
    `sum` (seconds): what a Prometheus histogram family is made from."""
    raw = (client or get_redis_connection("default")).hgetall(lag_key())
    return {k.decode(): float(v) for k, v in raw.items()}
