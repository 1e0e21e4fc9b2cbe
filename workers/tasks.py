"""Celery entry points. Thin: ids in, one service call, nothing else (STYLE.md).

Task names are part of the wire format: a rename strands messages already queued, so
tests pin every name."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workers.ping", ignore_result=True)
def ping(reply_key: str | None = None) -> str:
    """Proves a worker consumes from the broker: writes `pong` under reply_key in Redis."""
    if reply_key:
        from django_redis import get_redis_connection

        get_redis_connection("default").set(reply_key, "pong", ex=60)
    return "pong"
