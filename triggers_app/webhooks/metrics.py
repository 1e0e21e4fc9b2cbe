"""Deliveries counted by trigger and answered status, in Redis beside the platform's other
counters (one hash), so every web process's /metrics answers the same numbers."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def deliveries_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:metrics:webhook_deliveries"


def count_delivery(trigger_id: Any, status: int) -> None:
    try:
        get_redis_connection("default").hincrby(deliveries_key(), f"{trigger_id}|{status}", 1)
    except RedisError:
        logger.warning("could not count a webhook delivery", exc_info=True)


def delivery_counts(client: Any = None) -> dict[tuple[str, str], int]:
    """{(trigger id, status): deliveries} since the counters began."""
    raw = (client or get_redis_connection("default")).hgetall(deliveries_key())
    counts: dict[tuple[str, str], int] = {}
    for field, value in raw.items():
        trigger_id, _, status = field.decode().partition("|")
        counts[(trigger_id, status)] = int(value)
    return counts
