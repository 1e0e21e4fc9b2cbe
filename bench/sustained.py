"""Sustained submission (bench/NOTES.md): `POST /api/executions` of a 3-node workflow
(INPUT -> TRANSFORM -> OUTPUT, no `wait`) at a fixed rate for a minute, open loop
(bench/open_loop.py), against the Procfile's web entry on the bench's database while the
Procfile's workers run what it creates. Beside it, the floor: the same server answering
`GET /api/auth/me` (authentication and the cached user, no query) at the same rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from bench.open_loop import open_loop
from bench.process_cpu import CpuWatch, Selector, in_group, listening_group, postgres_backends
from bench.scenarios import chain_definition
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution
from tests.support.web_server import running_web
from workflows_app.services import workflow_create

RATES = (50, 100)  # submissions per second
DURATION_S = 60
FLOOR_S = 10  # GET /api/auth/me at each rate
CLIENTS = 32
DRAIN_S = 60  # after the load, how long every execution has to reach its end
IDLE_S = 5
# The default per-user limit is 6000/min in a fixed window: a minute at 100/s from one
# user, after the floor's requests, would be partly refused with 429s. The check itself
# still runs on every request; only its limit is out of the way.
WEB_ENV = {"LOG_LEVEL": "WARNING", "SWITCHBOARD_THROTTLE_USER": "1000000/min"}


def drained(workflow_id: Any, since: Any, deadline_s: float) -> dict[str, Any]:
    """Waits up to deadline_s for every execution created since `since` to be terminal;
    what is still not terminal then, and the count of each status."""
    ours = Execution.objects.filter(workflow_id=workflow_id, created_at__gte=since)
    began = time.perf_counter()
    while True:
        by_status = dict(ours.values_list("status").annotate(n=Count("id")).order_by())
        waiting = sum(n for status, n in by_status.items() if status not in FINISHED_EXECUTION_STATUSES)
        elapsed = time.perf_counter() - began
        if not waiting or elapsed > deadline_s:
            return {"by_status": by_status, "not_terminal": waiting, "drain_s": round(elapsed, 1)}
        time.sleep(0.5)


def one_rate(
    rate: int, base: str, headers: dict[str, str], workflow_id: Any, processes: dict[str, Selector], summary: Callable
) -> dict[str, Any]:
    def me(http: httpx.Client) -> httpx.Response:
        return http.get("/api/auth/me")

    def submit(http: httpx.Client) -> httpx.Response:
        return http.post("/api/executions", json={"workflow_id": str(workflow_id)})

    watch = CpuWatch(processes).start()
    floor = open_loop(me, me, base, headers, rate, FLOOR_S, CLIENTS).figures(summary)
    floor["cpu"] = watch.stop()

    since = timezone.now()
    # The load's own stretch, and the load with the wait for its executions' end: the
    # second says what one submission costs in every process, whenever the work was done.
    with_drain, watch = CpuWatch(processes).start(), CpuWatch(processes).start()
    load = open_loop(submit, me, base, headers, rate, DURATION_S, CLIENTS).figures(summary)
    load["cpu"] = watch.stop()
    load["executions"] = drained(workflow_id, since, DRAIN_S)
    load["cpu_with_drain"] = with_drain.stop()
    for figures in (floor, load):
        per_1000 = figures["cpu"]["cpu_s"]["web server"] * 1_000_000 / figures["requests"]
        figures["web_cpu_ms_per_1000"] = round(per_1000)
    return {"rate": rate, "floor: GET /api/auth/me": floor, "POST /api/executions": load}


def run(user: Any, password: str, worker_groups: dict[str, int], summary: Callable) -> dict[str, Any]:
    """worker_groups: the process group of each Celery worker, by name, for their CPU."""
    database = connection.settings_dict["NAME"]
    workflow_id = workflow_create(owner=user, name="sustained", description="", definition=chain_definition(3)).id
    with running_web(WEB_ENV) as base:
        login = httpx.post(f"{base}/api/auth/login", json={"username": user.username, "password": password})
        headers = {"Authorization": f"Bearer {login.raise_for_status().json()['access']}"}
        processes = {
            "web server": in_group(listening_group(base)),
            **{name: in_group(pgid) for name, pgid in worker_groups.items()},
            "PostgreSQL backends": postgres_backends(database),
        }
        idle = CpuWatch(processes).start()
        time.sleep(IDLE_S)
        figures: dict[str, Any] = {
            "duration_s": DURATION_S,
            "floor_s": FLOOR_S,
            "clients": CLIENTS,
            "drain_deadline_s": DRAIN_S,
            "idle": idle.stop(),
            "rates": [one_rate(rate, base, headers, workflow_id, processes, summary) for rate in RATES],
        }
    return figures
