"""What the guarded client's tests share: a resolver and a connect that record every
call, and a client built on them."""

from __future__ import annotations

from typing import Any

import httpcore

from outbound import GuardedHttpClient
from outbound.addresses import system_resolver


class Recorder:
    """A resolver and a connect that note every call; connects reach loopback only (the
    tests have no internet), any other address fails as unreachable."""

    def __init__(self, answers: dict[str, list[list[str]]] | None = None):
        self.answers = answers or {}
        self.resolved: list[str] = []
        self.connected: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append(host)
        if host in self.answers:
            queue = self.answers[host]
            return queue.pop(0) if len(queue) > 1 else queue[0]
        return system_resolver(host, port)

    def connect(self, address: str, port: int, timeout: float | None) -> httpcore.NetworkStream:
        self.connected.append((address, port))
        if not address.startswith("127."):
            raise httpcore.ConnectError(f"{address} is unreachable from the tests")
        return httpcore.SyncBackend().connect_tcp(address, port, timeout=timeout)


def client_for(recorder: Recorder, *allowed: str, **kwargs: Any) -> GuardedHttpClient:
    return GuardedHttpClient(resolver=recorder.resolve, connect=recorder.connect, allowed_hosts=allowed, **kwargs)


def response_json(response: Any) -> Any:
    import json

    return json.loads(response.content)
