"""Suspension figures (`python -m bench.run --only suspension`): the timer loop's lateness
with 10,000 waiting WAIT nodes due within a minute, and a 10-node execution with nothing
waiting, measured the way `make bench` measures it (its figure must not get slower)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils import timezone

from bench.scenarios import ROUNDS, ten_node_definition, timed_execution
from executions_app.models import Execution, ExecutionStatus, NodeRun, NodeRunStatus
from executions_app.services import execution_create
from tests.support.workers import session_database_url
from workflows_app.services import workflow_create

ROOT = Path(__file__).resolve().parent.parent
TIMERS = 10_000
SPREAD_S = 60
LEAD_S = 20  # the first timer is due this long after the rows are written


def waiting_definition() -> dict:
    return {
        "timeout_s": 7200,
        "nodes": [
            {"id": "start", "type": "INPUT", "config": {}},
            {"id": "pause", "type": "WAIT", "config": {"seconds": 3600}, "timeout_s": 7200},
            {"id": "result", "type": "OUTPUT", "config": {"value": 1}},
        ],
        "edges": [{"source": "start", "target": "pause"}, {"source": "pause", "target": "result"}],
    }


def _waiting_executions(user: Any, workflow: Any, count: int, first_due: dt.datetime) -> None:
    """`count` executions whose WAIT is suspended, as its first run leaves it, due one
    after another over SPREAD_S seconds from `first_due`: written in bulk, so that the
    figure is the timer loop's and the workers', not the set-up's."""
    now = timezone.now()
    executions = Execution.objects.bulk_create(
        Execution(
            owner=user,
            workflow=workflow,
            version_id=workflow.current_version_id,
            status=ExecutionStatus.RUNNING,
            remaining_nodes=2,
            trigger="api",
            started_at=now,
            deadline_at=now + dt.timedelta(hours=2),
        )
        for _ in range(count)
    )
    runs: list[NodeRun] = []
    for n, execution in enumerate(executions):
        due = first_due + dt.timedelta(seconds=SPREAD_S * n / count)
        state = {"until": due.isoformat(), "since": now.isoformat()}
        runs += [
            NodeRun(execution=execution, node_id="start", type="INPUT", status=NodeRunStatus.COMPLETED, attempts=1),
            NodeRun(
                execution=execution,
                node_id="pause",
                type="WAIT",
                status=NodeRunStatus.WAITING,
                attempts=1,
                resumes=1,
                started_at=now,
                wake_at=due,
                state=state,
                waiting_on={"kind": "timer", "until": due.isoformat(), "node_id": "pause"},
            ),
            NodeRun(execution=execution, node_id="result", type="OUTPUT", pending_parents=1),
        ]
    NodeRun.objects.bulk_create(runs, batch_size=3000)


def timer_lateness(user: Any, summary: Callable, count: int = TIMERS) -> dict[str, Any]:
    """Lateness of each timer: to its wake (the loop's update) and to its node's end (a
    worker ran the woken WAIT), with the Procfile's clock process and the bench workers."""
    workflow = workflow_create(owner=user, name="waits", description="", definition=waiting_definition())
    first_due = timezone.now() + dt.timedelta(seconds=LEAD_S)
    _waiting_executions(user, workflow, count, first_due)
    env = {**os.environ, "DATABASE_URL": session_database_url()}
    clock = subprocess.Popen([sys.executable, "manage.py", "run_clock"], cwd=ROOT, env=env)
    pauses = NodeRun.objects.filter(execution__workflow=workflow, node_id="pause")
    try:
        deadline = time.monotonic() + LEAD_S + SPREAD_S + 300
        while pauses.filter(status=NodeRunStatus.COMPLETED).count() < count:
            assert clock.poll() is None, "the clock process exited"
            assert time.monotonic() < deadline, "timers still waiting"
            time.sleep(1)
    finally:
        clock.terminate()
        clock.wait(timeout=30)
    woke, ended = [], []
    for state, ready_at, finished_at in pauses.values_list("state", "ready_at", "finished_at"):
        due = dt.datetime.fromisoformat(state["until"])
        woke.append((ready_at - due).total_seconds() * 1000)
        ended.append((finished_at - due).total_seconds() * 1000)
    return {
        "timers": count,
        "due_within_s": SPREAD_S,
        "to_woken_ms": summary(woke),
        "to_node_end_ms": summary(ended),
    }


def ten_node_baseline(user: Any, summary: Callable) -> dict[str, Any]:
    """The 10-node execution end to end, as `make bench` measures it."""
    workflow = workflow_create(owner=user, name="ten", description="", definition=ten_node_definition())
    for _ in range(5):  # warm-up: the version cache, prepared statements, worker imports
        timed_execution(user, workflow.id)
    return {"ten_node_end_to_end_ms": summary([timed_execution(user, workflow.id) for _ in range(ROUNDS * 2)])}


def _two_node_definition() -> dict:
    return {
        "nodes": [
            {"id": "start", "type": "INPUT", "config": {"fields": {"item": {"type": "integer"}}}},
            {"id": "result", "type": "OUTPUT", "config": {"value": "{{ inputs.item }}"}},
        ],
        "edges": [{"source": "start", "target": "result"}],
    }


def _map_definition(child_id: Any, concurrency: int) -> dict:
    return {
        "nodes": [
            {"id": "start", "type": "INPUT", "config": {"fields": {"items": {"type": "array"}}}},
            {
                "id": "each",
                "type": "MAP",
                "config": {
                    "items": "inputs.items",
                    "workflow_id": str(child_id),
                    "inputs": {"item": "{{ item }}"},
                    "concurrency": concurrency,
                },
            },
            {"id": "result", "type": "OUTPUT", "config": {"value": "{{ nodes.each.output | length }}"}},
        ],
        "edges": [{"source": "start", "target": "each"}, {"source": "each", "target": "result"}],
    }


def _wait_until_finished(ids: list[Any], timeout_s: float) -> dt.datetime:
    """Waits until every execution in `ids` finished; returns when the last one did."""
    deadline = time.monotonic() + timeout_s
    rows = Execution.objects.filter(id__in=ids)
    while rows.filter(finished_at__isnull=True).exists():
        assert time.monotonic() < deadline, "executions still running"
        time.sleep(0.2)
    assert not rows.exclude(status=ExecutionStatus.COMPLETED).exists(), "an execution did not complete"
    return max(rows.values_list("finished_at", flat=True))


def map_fan_out(user: Any, items: int = 1000, concurrency: int = 100) -> dict[str, Any]:
    """A MAP over `items` items of a 2-node sub-workflow against a burst of as many
    executions of that sub-workflow created one after another, in the same run."""
    child = workflow_create(owner=user, name="item", description="", definition=_two_node_definition())
    parent = workflow_create(
        owner=user, name="fan-out", description="", definition=_map_definition(child.id, concurrency)
    )
    began = timezone.now()
    burst = [execution_create(user=user, workflow_id=child.id, inputs={"item": n})[0].id for n in range(items)]
    burst_s = (_wait_until_finished(burst, 300) - began).total_seconds()
    began = timezone.now()
    mapped, _ = execution_create(user=user, workflow_id=parent.id, inputs={"items": list(range(items))})
    map_s = (_wait_until_finished([mapped.id], 600) - began).total_seconds()
    assert Execution.objects.get(id=mapped.id).outputs == {"result": items}
    return {
        "items": items,
        "concurrency": concurrency,
        "items_per_s": round(items / map_s, 1),
        "per_item_ms": round(map_s * 1000 / items, 2),
        "burst_per_s": round(items / burst_s, 1),
        "burst_per_item_ms": round(burst_s * 1000 / items, 2),
        "over_burst": round(map_s / burst_s, 2),
    }


def run_all(user: Any, summary: Callable) -> dict[str, Any]:
    return {
        "ten_node": ten_node_baseline(user, summary),
        "map": map_fan_out(user),
        "timers": timer_lateness(user, summary),
    }
