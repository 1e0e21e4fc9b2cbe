from __future__ import annotations

import socket
import time

import pytest
from django.db import connection, connections

from dashboard_app import health
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.server
def test_health_is_503_naming_redis_when_redis_stops(staff_client, settings, own_redis) -> None:
    settings.CACHE_REDIS_URL = own_redis.url

    before = staff_client.get("/api/dashboard/health").json()
    assert before["components"]["redis"]["ok"] is True

    own_redis.kill()
    started = time.monotonic()
    response = staff_client.get("/api/dashboard/health")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    health = response.json()
    assert health["ok"] is False
    assert "redis" in health["down"]
    assert health["components"]["redis"]["ok"] is False
    assert "Connection" in health["components"]["redis"]["error"]
    assert health["components"]["database"]["ok"] is True
    assert health["components"]["broker"]["ok"] is True  # the broker is another server here
    assert "heartbeats are kept in Redis" in health["components"]["workers"]["error"]
    assert elapsed < 5  # short timeouts, no retries


@pytest.mark.server
def test_health_is_503_when_no_worker_beats(staff_client, settings, own_redis) -> None:
    settings.CACHE_REDIS_URL = own_redis.url  # a Redis no worker writes its heartbeat to
    response = staff_client.get("/api/dashboard/health")
    assert response.status_code == 503
    health = response.json()
    assert health["down"] == ["workers"]
    assert "No worker heartbeat" in health["components"]["workers"]["error"]


@pytest.mark.worker_process
def test_health_is_200_with_every_component_and_its_latency(worker_processes, staff_client) -> None:
    response = wait_for(lambda: (r := staff_client.get("/api/dashboard/health")).status_code == 200 and r)
    health = response.json()
    assert health["ok"] is True
    assert health["down"] == []
    assert set(health["components"]) == {"database", "redis", "broker", "workers"}
    for report in health["components"].values():
        assert report["ok"] is True
        assert report["latency_ms"] >= 0
    assert health["components"]["workers"]["online"] >= 1
    assert set(health["components"]["broker"]["queues"]) == {"default", "nodes", "ai"}


@pytest.mark.worker_process
@pytest.mark.django_db(transaction=True)
def test_health_is_503_when_no_worker_consumes_a_queue(staff_client) -> None:
    """A worker on `default,nodes` beats, but nothing runs AI nodes: say so, not 200."""
    from tests.support.workers import worker_process

    with worker_process(queues="default,nodes"):
        response = wait_for(lambda: (r := staff_client.get("/api/dashboard/health")).status_code == 503 and r)
    health = response.json()
    assert health["down"] == ["workers"]
    assert "No worker consumes the ai queue" in health["components"]["workers"]["error"]


@pytest.mark.worker_process
def test_workers_are_listed_for_staff_and_counted_for_users(worker_processes, auth_client, staff_client) -> None:
    listed = wait_for(lambda: staff_client.get("/api/dashboard/overview").json()["workers"]["list"])
    assert set(listed[0]["queues"]) == {"default", "nodes", "ai"}
    assert listed[0]["last_beat_s"] < 10
    counted = auth_client.get("/api/dashboard/overview").json()["workers"]
    assert counted == {"online": len(listed), "list": []}


@pytest.mark.server
def test_health_hides_error_texts_from_users(auth_client, settings, own_redis) -> None:
    settings.CACHE_REDIS_URL = own_redis.url
    own_redis.kill()
    health = auth_client.get("/api/dashboard/health").json()
    assert health["components"]["redis"] == {
        "ok": False,
        "error": "unavailable",
        "latency_ms": pytest.approx(0, abs=5000),
    }
    assert "127.0.0.1" not in str(health)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a database server reached over the network")
def test_a_database_that_accepts_but_never_answers_is_down_at_the_deadline(staff_client, monkeypatch) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    monkeypatch.setattr(health, "DATABASE_DEADLINE_S", 0.5)
    database = connections.settings["default"]  # the dict every thread's connection is built from
    original = (database["HOST"], database["PORT"])
    database["HOST"], database["PORT"] = "127.0.0.1", str(silent.getsockname()[1])
    try:
        started = time.monotonic()
        response = staff_client.get("/api/dashboard/health")
        elapsed = time.monotonic() - started
    finally:
        database["HOST"], database["PORT"] = original
        accepted, _ = silent.accept()  # hang up on the stuck probe so it ends now
        accepted.close()
        silent.close()
        wait_for(lambda: health._probe is not None and health._probe.done())

    assert response.status_code == 503
    report = response.json()["components"]["database"]
    assert report["ok"] is False
    assert "did not answer within 0.5 s" in report["error"]
    assert elapsed < 3  # not the 5 s connect timeout, nor a hung web thread
    assert staff_client.get("/api/dashboard/health").json()["components"]["database"]["ok"] is True
