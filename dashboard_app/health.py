"""Platform health: the database, the cache Redis, the broker and the workers, each with
its latency. A component is down when it does not answer within about a second (Redis)
or raises; the workers are down when no worker heartbeat is alive."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

from celery import current_app as celery_app
from django.db import connection

from dashboard_app import platform_state

logger = logging.getLogger(__name__)
COMPONENTS = ("database", "redis", "broker", "workers")


class WorkersDown(Exception):
    pass


def _timed(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        extra = check() or {}
        report: dict[str, Any] = {"ok": True, **extra}
    except Exception as exc:
        report = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    report["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return report


# The database is asked in a thread of its own, with a deadline: one that accepts
# connections but never answers reads as down instead of hanging the probe (and a web
# thread with it). One thread: probes queue behind a stuck one and time out too.
DATABASE_DEADLINE_S = 3.0
_database_prober = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-database")


def _select_one() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread's own connection: none is left open between probes


_probe_lock = threading.Lock()
_probe: Future | None = None


def _database() -> None:
    global _probe
    with _probe_lock:  # a probe still in flight is waited on again, never queued behind
        if _probe is None or _probe.done():
            _probe = _database_prober.submit(_select_one)
        probe = _probe
    try:
        probe.result(timeout=DATABASE_DEADLINE_S)
    except FuturesTimeout:
        raise TimeoutError(f"the database did not answer within {DATABASE_DEADLINE_S:g} s") from None


def _redis() -> None:
    platform_state.cache_redis().ping()


def _broker() -> dict[str, Any]:
    client = platform_state.broker_redis()
    client.ping()
    return {"queues": platform_state.queue_depths(client)}


def _workers() -> dict[str, Any]:
    workers = platform_state.workers_online(platform_state.cache_redis())
    if not workers:
        raise WorkersDown("No worker heartbeat: no worker is running (or none can reach Redis).")
    consumed = {queue for worker in workers for queue in worker["queues"]}
    # A worker that does not say its queues (an older one) may consume any of them.
    if all(worker["queues"] for worker in workers):
        missing = [queue.name for queue in celery_app.conf.task_queues if queue.name not in consumed]
        if missing:
            raise WorkersDown(
                f"No worker consumes the {', '.join(missing)} queue: its nodes wait until one does "
                f"(AI nodes run on `ai`, the others on `nodes`)."
            )
    return {"online": len(workers)}


CHECKS: dict[str, Callable[[], dict[str, Any] | None]] = {
    "database": _database,
    "redis": _redis,
    "broker": _broker,
    "workers": _workers,
}


def platform_health() -> dict[str, Any]:
    """`{"ok", "down": [names], "components": {name: {ok, latency_ms, error?, ...}}}`."""
    components = {name: _timed(check) for name, check in CHECKS.items()}
    if not components["redis"]["ok"] and not components["workers"]["ok"]:
        # Heartbeats live in that Redis: say why the workers cannot be seen.
        components["workers"]["error"] = "Unknown: worker heartbeats are kept in Redis, which is down."
    down = [name for name, report in components.items() if not report["ok"]]
    for name in down:
        logger.warning("health: %s is down: %s", name, components[name].get("error"))
    return {"ok": not down, "down": down, "components": components}
