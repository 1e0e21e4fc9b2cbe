"""GET /api/schema answers every request, concurrent first ones included."""

from __future__ import annotations

import threading

from django.test import Client
from drf_spectacular.extensions import OpenApiSerializerExtension


def test_two_schema_requests_at_once_both_get_the_schema_while_an_extension_loads() -> None:
    class SlowMissingTarget(OpenApiSerializerExtension):  # registers itself; loaded on first use
        target_class = "tests.config.slow_missing.Target"

    start = threading.Barrier(2)
    statuses: list[int] = []

    def fetch() -> None:
        client = Client(raise_request_exception=False)
        start.wait()
        statuses.append(client.get("/api/schema", {"format": "json"}).status_code)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200, 200]
    assert SlowMissingTarget.target_class is None  # not importable: the extension never matches
