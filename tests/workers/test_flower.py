"""Flower's inspections of the workers (docs/operations/monitoring.md#flower): the
Procfile's Flower, started before any worker, waits for one, and its start-up inspection
then finds it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from honcho.environ import parse_procfile

from config.celery import app
from development.embedded_redis import free_port
from tests.support.workers import ROOT, WorkerProcess, wait_for, worker_process

pytestmark = [pytest.mark.worker_process, pytest.mark.django_db(transaction=True)]

TASKS = {"workers.node_run", "workers.ping", "workers.prune_executions", "workers.prune_trigger_logs", "workers.sweep"}
AUTH = ("flower", "test-only-password")
FAILED = "Inspect method"  # Flower's warning: `Inspect method registered failed`


def test_a_worker_answers_inspect_registered_with_its_tasks(worker_processes) -> None:
    """What Flower's `registered` inspection asks, asked the way Flower does."""
    replies = app.control.inspect(timeout=5).registered()

    assert replies, "no worker answered"
    [(name, tasks)] = replies.items()
    assert name.startswith("test-")
    assert set(tasks) == TASKS


def flower_line() -> str:
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)["flower"]


def cached_workers(port: int) -> dict[str, Any] | None:
    """What Flower learnt of the workers by itself (no `refresh`: nothing asked anew)."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/api/workers", auth=AUTH, timeout=5)
    except httpx.TransportError:
        return None  # not serving yet
    return response.json() if response.status_code == 200 and response.json() else None


def inspected_workers(port: int) -> dict[str, Any] | None:
    """The workers once Flower's own inspection of them has answered: its methods answer
    one by one, so a worker can be listed before its `registered` tasks are."""
    workers = cached_workers(port)
    return workers if workers and all("registered" in worker for worker in workers.values()) else None


@pytest.mark.server
@pytest.mark.slow
def test_flower_started_before_the_workers_waits_and_inspects_them_without_a_failure() -> None:
    port = free_port()
    env = {
        "FLOWER_BASIC_AUTH": ":".join(AUTH),
        "SWITCHBOARD_BIND": "127.0.0.1",
        "SWITCHBOARD_FLOWER_PORT": str(port),
        # The line's `python` and `celery` are this environment's, as under make run.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    flower = WorkerProcess("", 0, "", env, ["sh", "-c", flower_line()]).start()
    try:
        # No worker yet: Flower must not inspect now (it did, and warned for each method).
        wait_for(lambda: "waiting up to 30 s for a worker" in flower.log() or FAILED in flower.log(), timeout=60)
        assert FAILED not in flower.log()
        with worker_process(queues="default", concurrency=1):
            workers = wait_for(lambda: inspected_workers(port), timeout=60)
            [found] = workers.values()  # the one worker of this test
            assert set(found["registered"]) == TASKS
        assert FAILED not in flower.log()
    except BaseException:
        sys.stderr.write(flower.log()[-5000:])
        raise
    finally:
        flower.stop()
