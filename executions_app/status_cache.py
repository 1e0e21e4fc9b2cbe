"""Execution status in Redis (docs/architecture.md, Caching): written after commit with the new state, so a
reader never sees a state older than the last committed one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from core.resilient_cache import cache_get, cache_set


def status_key(execution_id: object) -> str:
    return f"execution:status:{execution_id}"


def write_now(execution_id: object, state: dict[str, Any]) -> None:
    cache_set(status_key(execution_id), state, settings.CACHE_TTL_EXECUTION)


def write_after_commit(execution_id: object, state: dict[str, Any]) -> None:
    transaction.on_commit(lambda: write_now(execution_id, state))


def read(execution_id: object) -> dict[str, Any] | None:
    return cache_get(status_key(execution_id))
