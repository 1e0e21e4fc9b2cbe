"""Triggers (bench/NOTES.md): webhook ingest, a sync webhook beside the API's own wait,
and the lag of 1,000 schedules due at the same moment.

Webhooks go through the Procfile's web server with the workers running, signed as a
sender signs them (a fresh timestamp and body each, so no signature repeats). The sync
hook and `POST /api/executions` with `wait` are measured one after the other in the same
run, by SYNC_CLIENTS clients (the user's stream slots and the hooks' per-owner wait cap
admit that many waits at once: more would measure the 202 fallback). Schedules are fired
by the Procfile's `clock` process."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import count
from typing import Any

import httpx
from django.utils import timezone

from bench.api_scenarios import CLIENTS, under_load, wait_for_executions
from bench.scenarios import minimal_definition
from executions_app.models import Execution
from executions_app.services import execution_create
from tests.support.web_server import running_web
from tests.support.workers import ROOT, session_database_url
from triggers_app.models import CatchUp, Overlap, Schedule, ScheduleTick, TickOutcome
from triggers_app.webhooks.services import webhook_create
from triggers_app.webhooks.signing import sign
from workflows_app.services import workflow_create

DELIVERIES = 100  # per client
SYNC_CLIENTS = 4
SYNC_REQUESTS = 50  # per client
SCHEDULES = 1000


def _signed_post(path: str, secret: str) -> Callable[[httpx.Client], httpx.Response]:
    numbers = count()

    def send(http: httpx.Client) -> httpx.Response:
        body = json.dumps({"x": next(numbers)}).encode()  # the minimal workflow's input
        signature = sign(secret, body, int(time.time()))
        headers = {"Content-Type": "application/json", "X-Switchboard-Signature": signature}
        return http.post(path, content=body, headers=headers)

    return send


def webhooks(user: Any, password: str, workflow_id: Any, summary: Callable) -> dict[str, Any]:
    # The hooks' rate limit (120 a minute by default) would answer most of the load 429.
    unlimited = {"rate_limit_per_minute": 100_000}
    async_hook, async_token, async_secret = webhook_create(
        user=user, workflow_id=workflow_id, name="bench async", **unlimited
    )
    sync_hook, sync_token, sync_secret = webhook_create(
        user=user, workflow_id=workflow_id, name="bench sync", mode="sync", sync_timeout_s=10, **unlimited
    )
    assert async_secret and sync_secret
    with running_web({"LOG_LEVEL": "WARNING"}) as base:
        login = httpx.post(f"{base}/api/auth/login", json={"username": user.username, "password": password})
        headers = {"Authorization": f"Bearer {login.raise_for_status().json()['access']}"}
        ingest = under_load(_signed_post(f"/hooks/{async_token}", async_secret), base, {}, requests=DELIVERIES)
        wait_for_executions()
        submit = under_load(
            lambda http: http.post("/api/executions", json={"workflow_id": str(workflow_id)}),
            base,
            headers,
            requests=DELIVERIES,
        )
        wait_for_executions()
        sync = under_load(
            _signed_post(f"/hooks/{sync_token}", sync_secret), base, {}, clients=SYNC_CLIENTS, requests=SYNC_REQUESTS
        )
        wait_for_executions()
        body = {"workflow_id": str(workflow_id), "inputs": {}, "wait": 10}
        api = under_load(
            lambda http: http.post("/api/executions", json=body),
            base,
            headers,
            clients=SYNC_CLIENTS,
            requests=SYNC_REQUESTS,
        )
        wait_for_executions()
    sync_figures, api_figures = summary(sync["latencies"]), summary(api["latencies"])
    return {
        "async_ingest": {**summary(ingest["latencies"]), "per_s": ingest["per_s"], "statuses": ingest["statuses"]},
        "api_submit": {**summary(submit["latencies"]), "per_s": submit["per_s"]},
        "async_clients": CLIENTS,
        "sync_clients": SYNC_CLIENTS,
        "sync_webhook_ms": {**sync_figures, "statuses": sync["statuses"]},
        "api_wait_ms": {**api_figures, "statuses": api["statuses"]},
        "sync_over_api_p50": round(sync_figures["p50"] / api_figures["p50"], 2),
        "hooks": [str(async_hook.id), str(sync_hook.id)],
    }


def schedule_lag(user: Any, workflow_id: Any, summary: Callable, schedules: int = SCHEDULES) -> dict[str, Any]:
    """`schedules` interval schedules whose next tick is the same second, a few seconds
    ahead, and the Procfile's clock process: lag from that second to each execution's
    creation and to its start (its first node claimed by a worker)."""
    fire_at = (timezone.now() + dt.timedelta(seconds=5)).replace(microsecond=0)
    Schedule.objects.bulk_create(
        Schedule(
            owner=user,
            workflow_id=workflow_id,
            name=f"bench {n}",
            interval_s=3600,
            anchor_at=fire_at - dt.timedelta(hours=1),
            next_fire_at=fire_at,
            overlap=Overlap.ALLOW,
            catch_up=CatchUp.SKIP_MISSED,
        )
        for n in range(schedules)
    )
    fired = ScheduleTick.objects.filter(outcome=TickOutcome.FIRED, scheduled_at=fire_at)
    env = {**os.environ, "DATABASE_URL": session_database_url()}
    clock = subprocess.Popen([sys.executable, "manage.py", "run_clock"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 180
        while fired.count() < schedules:
            assert clock.poll() is None, "the clock process exited"
            assert time.monotonic() < deadline, f"{fired.count()} of {schedules} ticks fired"
            time.sleep(0.5)
    finally:
        clock.terminate()
        clock.wait(timeout=30)
    wait_for_executions(180)
    rows = Execution.objects.filter(id__in=fired.values("execution_id")).values_list("created_at", "started_at")
    to_created = [(created - fire_at).total_seconds() * 1000 for created, _ in rows]
    to_started = [(started - fire_at).total_seconds() * 1000 for _, started in rows if started]
    return {
        "schedules": schedules,
        "fired": fired.count(),
        "to_created_ms": summary(to_created),
        "to_started_ms": summary(to_started),
        "burst_floor": burst_floor(user, workflow_id, schedules, summary),
    }


def burst_floor(user: Any, workflow_id: Any, count: int, summary: Callable) -> dict[str, Any]:
    """The floor of the schedule lag: the same number of executions of the same workflow
    created one after another by one process (the API's own path, no clock, no claims),
    from the moment the burst begins, with the same workers draining them."""
    began = timezone.now()
    made = [execution_create(user=user, workflow_id=workflow_id, inputs={}, trigger="api")[0].id for _ in range(count)]
    wait_for_executions(180)
    rows = Execution.objects.filter(id__in=made).values_list("created_at", "started_at")
    return {
        "to_created_ms": summary([(created - began).total_seconds() * 1000 for created, _ in rows]),
        "to_started_ms": summary([(started - began).total_seconds() * 1000 for _, started in rows if started]),
    }


def run_all(user: Any, password: str, summary: Callable) -> dict[str, Any]:
    workflow = workflow_create(owner=user, name="triggered", description="", definition=minimal_definition())
    return {
        "webhooks": webhooks(user, password, workflow.id, summary),
        "schedules": schedule_lag(user, workflow.id, summary),
    }
