"""The Redis plumbing of the guards: keys under the instance's prefix, Lua scripts sent
in one round trip with other commands, and the minute and day windows that quotas are
counted in (their keys, and when those expire)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import NoScriptError


def redis_key(*parts: object) -> str:
    return ":".join([settings.REDIS_KEY_PREFIX, "ai", *(str(p) for p in parts)])


def redis_connection():
    return get_redis_connection("default")


def _script(source: str) -> Any:
    return redis_connection().register_script(source)


def _script_after(then: Callable[[Any], None], source: str, keys: list, args: list) -> Any:
    """Sends `then(pipe)`'s commands and runs the script, in one round trip. EVALSHA is
    queued by hand: a pipeline that runs a Script checks it with SCRIPT EXISTS first,
    which is a round trip more."""
    script = _script(source)
    pipe = redis_connection().pipeline(transaction=False)
    then(pipe)
    pipe.evalsha(script.sha, len(keys), *keys, *args)
    reply = pipe.execute(raise_on_error=False)[-1]
    if isinstance(reply, NoScriptError):  # the server has not seen it yet: load it and run it
        return script(keys=keys, args=args)
    if isinstance(reply, Exception):
        raise reply
    return reply


# How long a quota window's key outlives its window (clocks of workers differ a little).
MINUTE_KEY_GRACE_MS, DAY_KEY_GRACE_MS = 5_000, 60_000


@dataclass(frozen=True)
class Windows:
    minute: int
    day: str
    minute_left_ms: int
    day_left_ms: int
    day_ends_at_ms: int  # a Unix time

    @classmethod
    def now(cls) -> Windows:
        now = time.time()
        return cls(
            minute=int(now // 60),
            day=time.strftime("%Y%m%d", time.gmtime(now)),
            minute_left_ms=int((60 - now % 60) * 1000) + 1,
            day_left_ms=int((86400 - now % 86400) * 1000) + 1,
            day_ends_at_ms=int(now // 86400 + 1) * 86_400_000,
        )

    @property
    def key_expiry_ms(self) -> tuple[int, int]:
        """When the minute's and the day's keys expire, as Unix times in ms. A correction
        made after a window ended (a long call) re-applies them: it recreates the expired
        key, and an expiry in the past removes it at once instead of leaving it forever."""
        return (self.minute + 1) * 60_000 + MINUTE_KEY_GRACE_MS, self.day_ends_at_ms + DAY_KEY_GRACE_MS


def quota_keys(provider: str, windows: Windows) -> list[str]:
    return [
        redis_key("quota", provider, "rpm", windows.minute),
        redis_key("quota", provider, "tpm", windows.minute),
        redis_key("quota", provider, "rpd", windows.day),
        redis_key("quota", provider, "tpd", windows.day),
    ]
