"""API latency under load, and cached against uncached reads (bench/NOTES.md).

The API is the Procfile's web server (gunicorn's asgi worker, 2 processes of 8 threads
for Django) on the bench's database, with the workers running. CLIENTS threads, each on a kept connection,
send REQUESTS requests one after another; each endpoint is measured beside the floor of
the same server under the same load, GET /api/auth/me (authentication and the cached
user, no query of its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from django.contrib.auth import get_user_model

from accounts_app.user_cache import user_cache_forget, user_get_for_authentication
from executions_app import status_cache
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution
from executions_app.selectors import execution_status
from tests.support.web_server import running_web
from workflows_app.models import WorkflowVersion
from workflows_app.selectors import version_get

CLIENTS = 8
REQUESTS = 100  # per client and endpoint
READS = 500


def under_load(
    send: Callable[[httpx.Client], httpx.Response],
    base: str,
    headers: dict,
    clients: int = CLIENTS,
    requests: int = REQUESTS,
) -> dict[str, Any]:
    """`clients` threads send `requests` each; latencies of all, the answers' statuses,
    and requests per second."""
    latencies: list[float] = []
    failures: list[str] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        mine = []
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            send(http).raise_for_status()  # a warm connection before the clock starts
            start.wait()
            for _ in range(requests):
                began = time.perf_counter()
                answer = send(http)
                mine.append((time.perf_counter() - began) * 1000)
                if answer.status_code >= 400:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
                with lock:
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    assert not failures, failures[:3]
    return {"latencies": latencies, "per_s": round(len(latencies) / elapsed, 1), "statuses": statuses}


def api_latency(user: Any, password: str, minimal_workflow_id: Any, execution_id: Any, summary: Callable) -> dict:
    with running_web({"LOG_LEVEL": "WARNING"}) as base:
        login = httpx.post(f"{base}/api/auth/login", json={"username": user.username, "password": password})
        headers = {"Authorization": f"Bearer {login.raise_for_status().json()['access']}"}
        minimal = str(minimal_workflow_id)
        endpoints: dict[str, Callable[[httpx.Client], httpx.Response]] = {
            "GET /api/auth/me": lambda http: http.get("/api/auth/me"),
            "GET /api/executions/{id}": lambda http: http.get(f"/api/executions/{execution_id}"),
            "GET /api/workflows": lambda http: http.get("/api/workflows"),
            "POST /api/executions": lambda http: http.post("/api/executions", json={"workflow_id": minimal}),
        }
        figures = {}
        for name, send in endpoints.items():
            measured = under_load(send, base, headers)
            figures[name] = {**summary(measured["latencies"]), "per_s": measured["per_s"]}
    wait_for_executions()
    return {"clients": CLIENTS, "requests_per_client": REQUESTS, "endpoints": figures}


def wait_for_executions(timeout_s: float = 120) -> None:
    """The executions created so far finish before the next figures are measured."""
    deadline = time.monotonic() + timeout_s
    while Execution.objects.exclude(status__in=FINISHED_EXECUTION_STATUSES).exists():
        assert time.monotonic() < deadline, "the executions created under load did not finish"
        time.sleep(0.1)


def timed_reads(read: Callable[[], Any], before: Callable[[], Any] | None = None) -> list[float]:
    times = []
    for _ in range(READS):
        if before:
            before()
        began = time.perf_counter()
        read()
        times.append((time.perf_counter() - began) * 1000)
    return times


def cached_reads(user: Any, execution_id: Any, summary: Callable) -> dict[str, dict]:
    """Each read the API and the engine make through the cache (docs/architecture.md, Caching), on a hit,
    beside the database query it saves."""
    users = get_user_model().objects
    version_id = Execution.objects.values_list("version_id", flat=True).get(id=execution_id)
    user_get_for_authentication(user_id=user.pk)
    version_get(version_id)
    assert status_cache.read(execution_id), "the finished execution's status was not cached"
    pairs = {
        "user, for authentication": (
            lambda: user_get_for_authentication(user_id=user.pk),
            lambda: users.filter(pk=user.pk, is_active=True).first(),
        ),
        "workflow version": (
            lambda: version_get(version_id),
            lambda: WorkflowVersion.objects.get(pk=version_id),
        ),
        "execution status": (
            lambda: execution_status(execution_id),
            lambda: Execution.objects.filter(id=execution_id).values_list("status", flat=True).first(),
        ),
    }
    figures = {}
    for name, (cached, database) in pairs.items():
        figures[name] = {"cached": summary(timed_reads(cached)), "database": summary(timed_reads(database))}
    # What a miss costs: the query, and then the cache write.
    figures["user, for authentication"]["miss"] = summary(
        timed_reads(lambda: user_get_for_authentication(user_id=user.pk), lambda: user_cache_forget(user_id=user.pk))
    )
    return figures
