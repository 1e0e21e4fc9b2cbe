"""The Redis broker transport: kombu's, with one Redis client per channel, and publishes
that can ride in a pipeline of the caller's (one round trip for both).

kombu's Redis channel builds a new `redis.Redis` object for every publish (and every
other command it sends outside a pipeline): around 0.15 ms of Python per node task,
spent on a client that only wraps the same connection pool. This channel keeps one per
pool. A client is only a handle on its pool, which hands out connections per command,
so sharing it changes nothing else. config/celery.py points the `redis://` and
`rediss://` schemes here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis
from kombu.utils.json import dumps

# kombu ships py.typed but leaves the Redis channel's methods and json.dumps unannotated:
# the calls to them below are untyped calls (no-untyped-call) however they are made.


class Channel(redis.Channel):
    _shared_client: Any = None
    _joined: Any = None  # the caller's pipeline that publishes are queued on (publishing_into)

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool  # a new one after the channel reconnects
        shared = self._shared_client
        if shared is None or shared.connection_pool is not pool:
            shared = self._shared_client = self._create_client()  # type: ignore[no-untyped-call]
        yield shared

    @contextmanager
    def publishing_into(self, pipe: Any) -> Iterator[None]:
        """The messages published inside are queued on `pipe`, a pipeline of the caller's
        on this same Redis server and database, which the caller then sends with its own
        commands: one round trip for both."""
        self._joined = pipe
        try:
            yield
        finally:
            self._joined = None

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        joined = self._joined
        if joined is None or kwargs.get("_publish_batch") is not None or (self._expires and queue in self._expires):
            super()._put(queue, message, **kwargs)  # type: ignore[no-untyped-call]
            return
        # What kombu's _put sends for a queue without an expiry; the caller's pipeline does
        # not add the broker's key prefix, so it is added here.
        key = self._q_for_pri(queue, self._get_message_priority(message, reverse=False))  # type: ignore[no-untyped-call]
        joined.lpush(self.global_keyprefix + key, dumps(message))  # type: ignore[no-untyped-call]


class Transport(redis.Transport):
    Channel = Channel
