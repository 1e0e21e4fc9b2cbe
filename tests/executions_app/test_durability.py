"""Nothing is lost when a worker dies or a message goes missing (real worker processes)."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import replace

import psutil
import pytest
from django_redis import get_redis_connection

from executions_app.engine.sweeper import sweep
from executions_app.models import Execution, NodeRun
from executions_app.selectors import execution_get
from records_app.models import Record
from tests.support.definitions import edge, input_node, node
from tests.support.http_server import running_test_server
from tests.support.workers import wait_for, worker_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker_process]


def sweep_until_finished(execution_id: str, timeout: float = 60) -> float:
    """Runs the sweeper as beat would, every half second, until the execution ends."""
    started = time.monotonic()

    def finished() -> bool:
        sweep()
        return Execution.objects.get(id=execution_id).status in ("completed", "failed", "canceled")

    wait_for(finished, timeout=timeout, interval=0.5)
    return time.monotonic() - started


@pytest.fixture
def slow_chain(make_workflow) -> str:
    return make_workflow(
        [
            input_node(),
            node("before", "TRANSFORM", {"value": "b"}),
            node("pause", "WAIT", {"seconds": 3}, retry={"max_attempts": 3}),
            node("after", "TRANSFORM", {"value": "{{ nodes.before.output }}-{{ nodes.pause.output.waited_s }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.after.output }}"}),
        ],
        [edge("start", "before"), edge("before", "pause"), edge("pause", "after"), edge("after", "result")],
    )


def wait_until_running(execution_id: str, node_id: str) -> None:
    wait_for(
        lambda: NodeRun.objects.filter(execution_id=execution_id, node_id=node_id, status="running").exists(),
        timeout=30,
    )


def test_sigkill_of_the_whole_worker_mid_node_then_a_new_worker_finishes(slow_chain, run, user) -> None:
    """Two workers run; the one holding the node is killed; the other takes it over."""
    with worker_process(concurrency=1) as first, worker_process(concurrency=1) as second:
        execution_id = run(slow_chain, wait=None).json()["id"]
        wait_until_running(execution_id, "pause")
        holder = NodeRun.objects.get(execution_id=execution_id, node_id="pause").claimed_by
        holder_pid = int(holder.split("|")[1])
        victim = next(w for w in (first, second) if w.process.pid == holder_pid)
        victim.kill(signal.SIGKILL)
        killed_at = time.monotonic()

        def reclaimed() -> bool:
            sweep()  # as beat would, every SWEEP_INTERVAL_S
            return NodeRun.objects.get(execution_id=execution_id, node_id="pause").attempts == 2

        wait_for(reclaimed, timeout=30, interval=0.25)
        reclaim_s = time.monotonic() - killed_at
        sweep_until_finished(execution_id)
    execution = execution_get(user=user, execution_id=execution_id)
    assert execution.status == "completed", execution.error
    runs = {r.node_id: r for r in execution.node_runs.all()}
    assert runs["pause"].attempts == 2  # the killed claim counts
    assert runs["pause"].claimed_by != holder
    assert all(runs[n].attempts == 1 for n in ("start", "before", "after", "result"))
    assert execution.outputs == {"result": "b-3.0"}
    assert reclaim_s < 10
    print(f"node re-claimed {reclaim_s:.2f}s after the SIGKILL")  # quoted in the durability notes


def test_sigkill_of_the_only_worker_then_a_new_one_finishes_and_writes_once(make_workflow, run, user) -> None:
    """No retry policy on the node: a killed worker's claim is re-run all the same (at
    least once), and the DATABASE write after it lands exactly once."""
    workflow_id = make_workflow(
        [
            input_node(),
            node("pause", "WAIT", {"seconds": 3}),
            node("log", "DATABASE", {"operation": "insert", "collection": "crash", "document": {"v": "after"}}),
            node("result", "OUTPUT", {"value": "{{ nodes.log.output }}"}),
        ],
        [edge("start", "pause"), edge("pause", "log"), edge("log", "result")],
    )
    with worker_process(concurrency=1) as worker:
        execution_id = run(workflow_id, wait=None).json()["id"]
        wait_until_running(execution_id, "pause")
        worker.kill(signal.SIGKILL)
    with worker_process(concurrency=1):
        sweep_until_finished(execution_id)
    execution = execution_get(user=user, execution_id=execution_id)
    assert execution.status == "completed", execution.error
    runs = {r.node_id: r for r in execution.node_runs.all()}
    assert runs["pause"].attempts == 2
    assert runs["log"].attempts == 1
    assert Record.objects.filter(owner=user, collection="crash").count() == 1


def test_sigkill_of_a_pool_child_is_recovered(slow_chain, run, user) -> None:
    with worker_process(concurrency=1) as worker:
        execution_id = run(slow_chain, wait=None).json()["id"]
        wait_until_running(execution_id, "pause")
        children = psutil.Process(worker.process.pid).children()
        assert children
        for child in children:
            os.kill(child.pid, signal.SIGKILL)
        sweep_until_finished(execution_id)
    execution = execution_get(user=user, execution_id=execution_id)
    assert execution.status == "completed", execution.error
    assert {r.node_id: r.attempts for r in execution.node_runs.all()}["pause"] == 2


def test_a_lost_message_is_republished_by_the_sweeper(slow_chain, run, user, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, sweep_stale_ready_s=1)
    redis = get_redis_connection("default")
    execution_id = run(slow_chain, wait=None).json()["id"]
    # No worker yet: the root's message sits in the queue. Drop it, as a broker would.
    queue_key = f"{settings.REDIS_KEY_PREFIX}:nodes"
    assert redis.llen(queue_key) == 1
    redis.delete(queue_key)
    with worker_process(concurrency=1):
        time.sleep(1.5)
        assert Execution.objects.get(id=execution_id).status == "queued"
        sweep_until_finished(execution_id)
    assert Execution.objects.get(id=execution_id).status == "completed"


@pytest.mark.server
def test_a_stopped_worker_hands_back_the_retry_it_was_holding(make_workflow, run, user, settings) -> None:
    """A retry waits out its backoff as a message held by a worker. The broker keeps no
    copy of messages in flight (no ack emulation), so stopping that worker must put the
    message back on the queue, and the next worker runs the retry when it is due, with
    no sweeper involved."""
    with running_test_server() as server:
        workflow_id = make_workflow(
            [
                input_node(),
                node(
                    "call",
                    "HTTP_REQUEST",
                    {"url": server.url("/flaky/1")},
                    retry={"max_attempts": 2, "backoff_s": 8, "max_backoff_s": 8},
                ),
                node("result", "OUTPUT", {"value": "{{ nodes.call.output.json.hit }}"}),
            ],
            [edge("start", "call"), edge("call", "result")],
        )
        # Backoffs up to 10 s ride as countdowns here (past the default 5 s a retry waits as
        # a durable timer instead, which no worker holds: test_suspension.py).
        opened = {
            "SWITCHBOARD_HTTP_ALLOWED_HOSTS": f"127.0.0.1:{server.port}",
            "SWITCHBOARD_RETRY_COUNTDOWN_MAX_S": "10",
        }

        def waiting_for_retry() -> bool:
            call = NodeRun.objects.get(execution_id=execution_id, node_id="call")
            return call.status == "pending" and len(call.attempt_log) == 1

        with worker_process(concurrency=1, extra_env=opened):
            execution_id = run(workflow_id, wait=None).json()["id"]
            wait_for(waiting_for_retry, timeout=30, interval=0.1)
        # Stopped (warm shutdown) inside the backoff, 4 to 8 s: the retry is queued again.
        assert server.total_hits == 1
        redis = get_redis_connection("default")
        handed_back = [json.loads(m) for m in redis.lrange(f"{settings.REDIS_KEY_PREFIX}:nodes", 0, -1)]
        # The retry, with its due time. The first attempt's message can come back beside it
        # when the stop overtakes its ack (the row changed first); the claim turns that one
        # away, since the node is not due yet, and the hits below count one run more only.
        assert [m["headers"]["task"] for m in handed_back if m["headers"].get("eta")] == ["workers.node_run"]
        assert len(handed_back) <= 2
        with worker_process(concurrency=1, extra_env=opened):
            wait_for(lambda: Execution.objects.get(id=execution_id).status == "completed", timeout=30, interval=0.2)
    execution = execution_get(user=user, execution_id=execution_id)
    assert execution.outputs == {"result": 2}
    assert {r.node_id: r.attempts for r in execution.node_runs.all()}["call"] == 2


def test_a_node_whose_worker_keeps_dying_fails_when_attempts_run_out(make_workflow, run, user) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("pause", "WAIT", {"seconds": 5}),
            node("result", "OUTPUT", {"value": 1}),
        ],
        [edge("start", "pause"), edge("pause", "result")],
    )
    execution_id = run(workflow_id, wait=None).json()["id"]
    # Two lost claims allowed (the default is 3), to keep the test short.
    allowance = {"SWITCHBOARD_WORKER_LOST_MAX_ATTEMPTS": "2"}

    def pause_attempts() -> int:
        sweep()
        return NodeRun.objects.get(execution_id=execution_id, node_id="pause").attempts

    for attempt in (1, 2):
        with worker_process(concurrency=1, extra_env=allowance) as worker:
            wait_for(lambda n=attempt: pause_attempts() == n, timeout=30, interval=0.5)
            wait_until_running(execution_id, "pause")
            worker.kill(signal.SIGKILL)
    with worker_process(concurrency=1, extra_env=allowance):
        sweep_until_finished(execution_id)
    execution = execution_get(user=user, execution_id=execution_id)
    assert execution.status == "failed"
    pause = {r.node_id: r for r in execution.node_runs.all()}["pause"]
    assert pause.status == "failed"
    assert pause.error["code"] == "worker_lost"
    assert pause.attempts == 2


def test_execution_past_its_deadline_fails(make_workflow, run, user, settings) -> None:
    workflow_id = make_workflow(
        [input_node(), node("pause", "WAIT", {"seconds": 30}), node("result", "OUTPUT", {"value": 1})],
        [edge("start", "pause"), edge("pause", "result")],
    )
    execution_id = run(workflow_id, wait=None).json()["id"]
    Execution.objects.filter(id=execution_id).update(deadline_at=Execution.objects.get(id=execution_id).created_at)
    sweep()
    execution = execution_get(user=user, execution_id=execution_id)
    assert execution.status == "failed"
    assert execution.error["code"] == "execution_timeout"
    assert {n["node_id"]: n["status"] for n in nodes_by_id_list(execution)}["pause"] == "canceled"
    assert settings.REDIS_KEY_PREFIX


def nodes_by_id_list(execution: Execution) -> list[dict]:
    return [{"node_id": r.node_id, "status": r.status} for r in execution.node_runs.all()]
