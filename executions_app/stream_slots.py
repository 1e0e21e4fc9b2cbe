"""A user's open event streams, counted (SWITCHBOARD_EVENTS_MAX_STREAMS_PER_USER):
each stream, and each `wait`, holds one of the web tier's threads, so one client must not take them
all. A slot is a member of a Redis sorted set scored by the end of its lease."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from core.api import AppError

logger = logging.getLogger(__name__)

# A stream's slot is a lease, renewed while the stream runs: a web process killed
# mid-stream stops renewing and its slots free themselves within this many seconds.
SLOT_LEASE_S = 30.0


class TooManyStreams(AppError):
    status_code = 429
    code = "too_many_streams"


# Both scripts take the time from Redis, so web processes with skewed clocks agree on
# which leases ran out. KEYS[1] is the user's slots; ARGV: [cap,] lease in ms, token.
_ACQUIRE_SLOT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[2]), ARGV[3])
-- the set lives as long as its longest lease (a `wait` holds one for its whole length)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""
_RENEW_SLOT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[1]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
"""


def take_slot(key: str, cap: int, lease_ms: int, token: str) -> bool:
    """Adds `token` to the leased set at `key` unless it holds `cap` live leases already;
    True when it was added. Raises RedisError. Other capped holders (sync webhook waits)
    keep their own sets with it."""
    redis = get_redis_connection("default")
    return bool(redis.register_script(_ACQUIRE_SLOT)(keys=[key], args=[cap, lease_ms, token]))


def slots_key(user_id: Any) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:event-streams:{user_id}"


class StreamSlot:
    """One of a user's open event streams: a member of a Redis sorted set scored by the
    end of its lease. The stream renews the lease while it runs and removes it when it
    ends. With Redis unreachable at the start the stream is let through uncounted (it
    ends soon anyway: it reads its events from Redis)."""

    def __init__(self, key: str | None, token: str):
        self.key, self.token = key, token
        self.renewed_at = time.monotonic()

    @classmethod
    def acquire(cls, user_id: Any, lease_s: float | None = None) -> StreamSlot:
        """TooManyStreams (429) when the user already holds EVENTS_MAX_STREAMS_PER_USER
        live slots (0: no cap). `lease_s`: for a holder that does not renew (a `wait`)."""
        cap = settings.SWITCHBOARD.events_max_streams_per_user
        token = secrets.token_hex(8)
        if cap <= 0:
            return cls(None, token)
        key = slots_key(user_id)
        try:
            taken = take_slot(key, cap, _lease_ms() if lease_s is None else int(lease_s * 1000), token)
        except RedisError:
            logger.warning("could not count open event streams; this one goes uncounted", exc_info=True)
            return cls(None, token)
        if not taken:
            raise TooManyStreams(
                f"You already have {cap} live event streams open, the most allowed at once. "
                "Close one (or wait for one to end) and try again.",
                details={"max_streams": cap},
            )
        return cls(key, token)

    def renew(self) -> None:
        """Extends the lease, at most every third of it."""
        if self.key is None or time.monotonic() - self.renewed_at < SLOT_LEASE_S / 3:
            return
        self.renewed_at = time.monotonic()
        try:
            redis = get_redis_connection("default")
            redis.register_script(_RENEW_SLOT)(keys=[self.key], args=[_lease_ms(), self.token])
        except RedisError:
            logger.warning("could not renew an event stream's slot", exc_info=True)

    def release(self) -> None:
        """Idempotent; a release that cannot reach Redis is left to the lease."""
        key, self.key = self.key, None
        if key is None:
            return
        try:
            get_redis_connection("default").zrem(key, self.token)
        except RedisError:
            logger.warning("could not release an event stream's slot", exc_info=True)


def _lease_ms() -> int:
    return int(SLOT_LEASE_S * 1000)
