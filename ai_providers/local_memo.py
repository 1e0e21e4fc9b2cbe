"""A value kept in this process for a moment in front of the shared cache.

Every AI call reads the admin's routes, prices and quotas; from Redis that is a round trip
each (three per call). A worker keeps what it read for AI_PROVIDERS["LOCAL_CACHE_S"]
(2 s): an admin edit reaches this process at once and every other worker within that."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

T = TypeVar("T")
_ALL: list[LocalMemo] = []


class LocalMemo(Generic[T]):
    def __init__(self, load: Callable[[], T]):
        self._load = load
        self._value: T | None = None
        self._read_at = float("-inf")
        _ALL.append(self)

    def get(self) -> T:
        now = time.monotonic()
        value = self._value  # read once: a forget() from another thread may clear it meanwhile
        if value is None or now - self._read_at >= settings.AI_PROVIDERS["LOCAL_CACHE_S"]:
            # Threads of the `ai` pool may both load at expiry: same value, no harm.
            value = self._load()
            self._value, self._read_at = value, now
        return value

    def forget(self) -> None:
        self._value, self._read_at = None, float("-inf")


def forget_all() -> None:
    """Every memo of this process (tests clear them with the shared cache)."""
    for memo in _ALL:
        memo.forget()
