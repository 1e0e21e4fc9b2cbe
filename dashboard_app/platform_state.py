"""What Redis says about the platform: broker queue depths and the workers that are
beating. Read with our own short-timeout clients (no retries), so a Redis outage costs a
request about a second, not the cache client's retries."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import redis
from celery import current_app
from django.conf import settings
from kombu.transport.redis import Channel
from redis.backoff import NoBackoff
from redis.retry import Retry

REDIS_TIMEOUT_S = 1.0
_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    """A client for `url` that fails within about a second and never retries; one
    connection pool per URL per process."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
            _clients[url] = client
        return client


def cache_redis() -> redis.Redis:
    """The Redis of the cache, the counters and the worker heartbeats."""
    return redis_client(settings.CACHE_REDIS_URL)


def broker_redis() -> redis.Redis:
    return redis_client(settings.CELERY_BROKER_URL)


def queue_names() -> list[str]:
    return [queue.name for queue in current_app.conf.task_queues]


def _queue_keys(queue: str) -> list[str]:
    # kombu keeps one list per priority step (`<queue>\x06\x16<step>`, step 0 is the bare
    # name), each under the broker's global_keyprefix.
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    return [prefix + (queue if not step else f"{queue}{Channel.sep}{step}") for step in Channel.priority_steps]


def queue_depths(client: redis.Redis | None = None) -> dict[str, int]:
    """Messages waiting in each broker queue (not the ones a worker has reserved)."""
    client = client or broker_redis()
    names = queue_names()
    pipe = client.pipeline(transaction=False)
    for name in names:
        for key in _queue_keys(name):
            pipe.llen(key)
    lengths = pipe.execute()
    steps = len(Channel.priority_steps)
    return {name: sum(lengths[i * steps : (i + 1) * steps]) for i, name in enumerate(names)}


def heartbeat_pattern() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:heartbeat:*"


def workers_online(client: redis.Redis | None = None) -> list[dict[str, Any]]:
    """The workers whose heartbeat key is alive (SCAN + MGET; never a broadcast to the
    workers): host, main pid, queues and seconds since the last beat."""
    client = client or cache_redis()
    keys = sorted(client.scan_iter(match=heartbeat_pattern(), count=1000))
    if not keys:
        return []
    now = time.time()
    workers = []
    for key, raw in zip(keys, client.mget(keys), strict=True):
        if not raw:
            continue  # expired between SCAN and MGET
        name = key.decode().rsplit(":heartbeat:", 1)[1]
        try:
            beat = json.loads(raw)
        except ValueError:
            beat = {}
        workers.append(
            {
                "name": name,
                "host": name.rsplit("|", 1)[0],
                "pid": beat.get("pid"),
                "queues": beat.get("queues") or [],
                "last_beat_s": round(max(0.0, now - float(beat.get("at") or now)), 1),
            }
        )
    return workers
