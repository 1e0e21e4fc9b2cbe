"""What Flower shows, as Flower receives it: the task events of a real worker, collected
by Celery's event receiver (docs/operations/monitoring.md#flower)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from executions_app.models import NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.task_events import TaskEvents, task_events
from tests.support.workers import WorkerProcess, wait_for, worker_process
from workers.tasks import ping

pytestmark = [pytest.mark.worker_process, pytest.mark.django_db(transaction=True)]

EVENTS_ON = {"SWITCHBOARD_TASK_EVENTS": "1"}
FINAL = {"task-succeeded", "task-failed"}


def node_task_id(received: TaskEvents, node_run_id: int) -> str:
    """The task id of the node task for node run `node_run_id`, from its task-received."""
    event = received.wait_for(
        lambda e: e["type"] == "task-received" and str(e.get("args", "")).startswith(f"[{node_run_id}]")
    )
    return str(event["uuid"])


def final_events(received: TaskEvents, task_id: str) -> list[str]:
    received.wait_for(lambda e: e.get("uuid") == task_id and e["type"] in FINAL)
    return [kind for kind in received.types_of(task_id) if kind in FINAL]


@pytest.mark.parametrize("pool", ["prefork", "threads"])  # the pools of the Procfile's two workers
def test_node_tasks_name_their_node_and_a_failed_node_is_a_failed_task(make_workflow, run, pool) -> None:
    workflow_id = make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / inputs.n }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.divide.output }}"}),
        ],
        [edge("start", "divide"), edge("divide", "result")],
    )
    with task_events() as received, worker_process(concurrency=1, pool=pool, extra_env=EVENTS_ON):
        execution = run(workflow_id, {"n": 0}).json()
        assert execution["status"] == "failed", execution
        runs = {r.node_id: r for r in NodeRun.objects.filter(execution_id=execution["id"])}
        start_task = node_task_id(received, runs["start"].id)
        divide_task = node_task_id(received, runs["divide"].id)

        # Named by the node's type; the node and its execution beside the node run id.
        [received_event] = [e for e in received.of_task(divide_task) if e["type"] == "task-received"]
        assert received_event["name"] == "node TRANSFORM"
        assert received_event["args"] == f"[{runs['divide'].id}] node divide, execution {execution['id']}"

        assert final_events(received, start_task) == ["task-succeeded"]
        # Failed, once, and never reported as succeeded as well.
        assert final_events(received, divide_task) == ["task-failed"]
        [failed] = [e for e in received.of_task(divide_task) if e["type"] == "task-failed"]
        code, message = runs["divide"].error["code"], runs["divide"].error["message"]
        assert failed["exception"] == f"node failed: {code}: {message}"
        assert failed["traceback"] == ""


SWEEP_RAN = re.compile(r"Task workers\.sweep\[([0-9a-f-]{36})\] succeeded")


def test_a_sweep_sends_no_task_events(tmp_path: Path) -> None:
    """A sweep every 2 s made most of Flower's task list: beat sends none for it, nor
    does the worker that runs it."""
    env = {**EVENTS_ON, "SWITCHBOARD_LOG_TASKS": "1"}  # the worker logs the sweep's id
    beat_command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(tmp_path / "schedule")]
    with task_events() as received, worker_process(queues="default", concurrency=1, extra_env=env) as worker:
        beat = WorkerProcess("", 0, "", env, [*beat_command, "-l", "INFO"]).start()
        try:
            sweep_id = wait_for(lambda: SWEEP_RAN.search(worker.log()), timeout=30).group(1)
        finally:
            beat.stop()
        # One task at a time, events sent in order: once a task queued after the sweep
        # has its task-succeeded, every event of the sweep and of beat has arrived.
        after = ping.apply_async(queue="default").id
        received.wait_for(lambda e: e.get("uuid") == after and e["type"] == "task-succeeded")

        assert received.of_task(sweep_id) == []
        assert received.find(lambda e: e.get("name") == "workers.sweep") == []
