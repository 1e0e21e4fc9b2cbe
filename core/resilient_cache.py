"""Cache calls that survive a Redis outage (docs/architecture.md, Caching): a connection problem is logged as
a warning and answered as a miss, so the caller falls back to the database. These
functions never raise for an unreachable or failing Redis.

After a failure this process skips the cache for settings.CACHE_OUTAGE_RETRY_S seconds:
an outage then costs neither a connect timeout nor a log line on every call. Deletes that
could not reach Redis are remembered and replayed before the next cache call that gets
through, because an invalidation lost in an outage would otherwise serve stale data (a
deactivated user, say) until its TTL runs out.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What an unreachable, restarting or overloaded Redis raises through django-redis.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (RedisError, ConnectionInterrupted, OSError)

# Beyond this many lost invalidations the process stops remembering (and says so): the
# entries then live until their TTL.
MAX_PENDING_DELETES = 10_000


class _OutageState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.pending_deletes: set[str] = set()

    def reset(self) -> None:
        with self.lock:
            self.skip_until = 0.0
            self.pending_deletes.clear()


_state = _OutageState()


def cache_available() -> bool:
    """False while this process is skipping the cache after a recent failure."""
    return time.monotonic() >= _state.skip_until


def cache_call(operation: Callable[[BaseCache], T], *, default: T, what: str) -> T:
    """Runs `operation(cache)`; on an outage logs a warning and returns `default`.

    For operations beyond get/set/delete (add, incr, ttl, a raw client pipeline)."""
    if not cache_available():
        return default
    try:
        if _state.pending_deletes:
            _replay_pending_deletes()
        return operation(cache)
    except OUTAGE_ERRORS as exc:
        _record_outage(what, exc)
        return default


def cache_get(key: str, default: Any = None) -> Any:
    return cache_call(lambda c: c.get(key, default), default=default, what="get")


def cache_set(key: str, value: Any, ttl: float | None) -> bool:
    """True when the value was stored."""

    def store(c: BaseCache) -> bool:
        c.set(key, value, ttl)
        return True

    return cache_call(store, default=False, what="set")


def cache_delete(*keys: str) -> bool:
    """True when the keys are gone; otherwise they are deleted once Redis answers again."""
    if not keys:
        return True

    def delete(c: BaseCache) -> bool:
        c.delete_many(list(keys))
        return True

    deleted = cache_call(delete, default=False, what="delete")
    if not deleted:
        _remember_deletes(keys)
    return deleted


def _replay_pending_deletes() -> None:
    with _state.lock:
        keys = list(_state.pending_deletes)
    if not keys:
        return
    cache.delete_many(keys)  # an outage here propagates to cache_call, which keeps them
    with _state.lock:
        _state.pending_deletes.difference_update(keys)
    logger.info("Cache is back: replayed %d invalidations lost during the outage.", len(keys))


@atexit.register
def _deliver_pending_deletes_at_exit() -> None:
    """A process that ends with invalidations Redis never got (a one-shot command, say,
    that could not reach it) tries once more, then says what stays stale and for how long:
    no later call of its own would replay them."""
    if not _state.pending_deletes:
        return
    try:
        _replay_pending_deletes()
    except Exception as exc:  # at exit: report, never raise
        logger.warning(
            "Exiting with %d cache invalidations Redis never received (%s): other processes may serve "
            "those users and statuses as they were for up to %s s (CACHE_TTL_USER). Run the change again "
            "once this process can reach Redis.",
            len(_state.pending_deletes),
            type(exc).__name__,
            getattr(settings, "CACHE_TTL_USER", "?"),
        )


def _remember_deletes(keys: Iterable[str]) -> None:
    with _state.lock:
        room = MAX_PENDING_DELETES - len(_state.pending_deletes)
        keys = list(keys)
        if room < len(keys):
            logger.error("Too many cache invalidations lost during the outage; some entries stay until their TTL.")
        _state.pending_deletes.update(keys[: max(room, 0)])


def _record_outage(what: str, exc: BaseException) -> None:
    retry_s = float(getattr(settings, "CACHE_OUTAGE_RETRY_S", 5.0))
    with _state.lock:
        _state.skip_until = time.monotonic() + retry_s
    logger.warning(
        "Cache unavailable during %s (%s: %s); using the database for the next %.0f s.",
        what,
        type(exc).__name__,
        exc,
        retry_s,
    )


@receiver(setting_changed)
def _forget_outage_when_caches_change(*, setting: str, **kwargs: Any) -> None:
    # A new cache configuration (tests point it at another Redis) starts with a clean slate.
    if setting == "CACHES":
        _state.reset()
