"""A hook's rate limit, and the caps on sync deliveries that wait for their outputs.

The rate limit is a fixed window of one minute per trigger (a Redis INCR on a key named
after the window, expiring with it): atomic across web processes, and the Retry-After is
the rest of the window. Redis unreachable lets deliveries through, as the API's throttles
do, rather than refusing every sender.

A sync wait holds a web thread (until the async front door lands, ROUND2 §5): at most
`hook_sync_waits_per_process` at once in a process (a semaphore) and
`hook_sync_waits_per_owner` per owner across processes (leased slots in Redis, so a
killed process's slots free themselves). Beyond either the delivery answers 202 at once."""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from executions_app.stream_slots import StreamSlot, take_slot
from triggers_app.models import WebhookTrigger
from triggers_app.webhooks.errors import throttled

logger = logging.getLogger(__name__)

WINDOW_S = 60


def check_rate(trigger: WebhookTrigger, now_s: float | None = None) -> None:
    """Counts the delivery in its minute; HookRefused (429) past the trigger's limit.
    A limit of 0 means no limit."""
    limit = trigger.rate_limit_per_minute
    if limit <= 0:
        return
    now_s = time.time() if now_s is None else now_s
    window = int(now_s // WINDOW_S)
    key = f"{settings.REDIS_KEY_PREFIX}:hook-rate:{trigger.id}:{window}"
    try:
        pipe = get_redis_connection("default").pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_S + 1)
        count = pipe.execute()[0]
    except RedisError:
        logger.warning("could not count a webhook delivery for its rate limit; it goes uncounted", exc_info=True)
        return
    if count > limit:
        retry_after_s = max(1, int((window + 1) * WINDOW_S - now_s + 0.999))
        raise throttled(limit, retry_after_s)


class _ProcessWaits:
    """The process's semaphore, made again when the setting changes (tests change it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cap = -1
        self.semaphore = threading.BoundedSemaphore(1)

    def current(self) -> threading.BoundedSemaphore:
        cap = settings.SWITCHBOARD.hook_sync_waits_per_process
        with self.lock:
            if cap != self.cap:
                self.cap, self.semaphore = cap, threading.BoundedSemaphore(max(cap, 1))
            return self.semaphore


_process_waits = _ProcessWaits()


def owner_waits_key(owner_id: Any) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:hook-sync-waits:{owner_id}"


def _owner_slot(owner_id: Any, lease_s: float) -> StreamSlot | None:
    """One of the owner's sync-wait slots (released like an event stream's), or None when
    the owner holds them all. Redis unreachable: the wait goes uncounted (the process cap
    still holds)."""
    cap = settings.SWITCHBOARD.hook_sync_waits_per_owner
    token = secrets.token_hex(8)
    if cap <= 0:
        return StreamSlot(None, token)
    key = owner_waits_key(owner_id)
    try:
        taken = take_slot(key, cap, int(lease_s * 1000), token)
    except RedisError:
        logger.warning("could not count a sync webhook wait; it goes uncounted", exc_info=True)
        return StreamSlot(None, token)
    return StreamSlot(key, token) if taken else None


@contextlib.contextmanager
def sync_wait_slot(owner_id: Any, timeout_s: float) -> Iterator[bool]:
    """Yields True when the delivery may wait (a slot of the process and of the owner are
    held until the block ends), False when either cap is reached."""
    if settings.SWITCHBOARD.hook_sync_waits_per_process <= 0:
        yield False
        return
    semaphore = _process_waits.current()
    if not semaphore.acquire(blocking=False):
        yield False
        return
    try:
        slot = _owner_slot(owner_id, lease_s=timeout_s + 5)
        if slot is None:
            yield False
            return
        try:
            yield True
        finally:
            slot.release()
    finally:
        semaphore.release()
