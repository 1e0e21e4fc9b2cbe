"""Asking the workers through the broker whether they consume: `workers.ping` on each
queue, answered in Redis. Used by the launcher's demo run and by the tests."""

from __future__ import annotations

import secrets
import time

from celery import current_app
from django.conf import settings
from django_redis import get_redis_connection

# The task by its name: the workers register it (workers/tasks.py); this layer sits below them.
PING_TASK = "workers.ping"


def ping_workers(queues: tuple[str, ...] = ("default",), timeout: float = 30.0) -> bool:
    """True once a worker answered on every queue in `queues` within `timeout` seconds."""
    redis = get_redis_connection("default")
    keys = []
    for queue in queues:
        key = f"{settings.REDIS_KEY_PREFIX}:pong:{secrets.token_hex(4)}"
        current_app.send_task(PING_TASK, kwargs={"reply_key": key}, queue=queue, expires=timeout)
        keys.append(key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(redis.exists(key) for key in keys):
            return True
        time.sleep(0.05)
    return False
