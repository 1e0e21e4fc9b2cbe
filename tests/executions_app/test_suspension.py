"""Suspension on real workers: a waiting node holds no worker, is woken once by its timer
(the clock's loop, the sweeper), survives its worker's death, and a long retry backoff
waits as a durable timer."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from executions_app import events
from executions_app.engine.publish import publish_for, publish_now
from executions_app.engine.wakes import wake_due
from executions_app.models import Execution, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id, status_of
from tests.support.http_nodes import one_call
from triggers_app.schedules import clock
from workflows_app.selectors import graph_for_version

pytestmark = pytest.mark.django_db(transaction=True)

HOUR = 3600


def waiting_workflow(auth_client: Any, seconds: float, *, timeout_s: float = 2 * HOUR, name: str = "waits") -> str:
    """start -> pause (a WAIT of `seconds`) -> result, allowed to wait that long."""
    definition = {
        "nodes": [
            input_node(),
            node("pause", "WAIT", {"seconds": seconds}, timeout_s=timeout_s),
            node("result", "OUTPUT", {"value": "{{ nodes.pause.output.waited_s }}"}),
        ],
        "edges": [edge("start", "pause"), edge("pause", "result")],
        "timeout_s": timeout_s,
    }
    response = auth_client.post("/api/workflows", {"name": name, "definition": definition}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def pause_of(execution_id: str) -> NodeRun:
    return NodeRun.objects.get(execution_id=execution_id, node_id="pause")


def until_waiting(execution_id: str, node_id: str = "pause", timeout: float = 30) -> NodeRun:
    from tests.support.workers import wait_for

    return wait_for(
        lambda: NodeRun.objects.filter(execution_id=execution_id, node_id=node_id, status="waiting").first(),
        timeout=timeout,
    )


def make_due(execution_id: str) -> None:
    """As if the wait's time had come: its timer and its own `until` are in the past."""
    run = pause_of(execution_id)
    past = timezone.now() - timedelta(seconds=1)
    state = {**run.state, "until": past.isoformat()}
    NodeRun.objects.filter(id=run.id).update(wake_at=past, state=state)


def finished(auth_client: Any, execution_id: str, timeout: float = 30) -> dict:
    from tests.support.workers import wait_for

    return wait_for(
        lambda: (
            (body := status_of(auth_client, execution_id))["status"] in ("completed", "failed", "canceled") and body
        ),
        timeout=timeout,
    )


@pytest.mark.worker_process
def test_two_one_hour_waits_hold_no_worker(auth_client, make_workflow, run) -> None:
    """Two one-hour WAITs and a 2-process worker: a second execution still runs, and
    finishes while both waits still wait."""
    from tests.support.workers import worker_process

    long_id = waiting_workflow(auth_client, HOUR)
    quick_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 42})], [edge("start", "result")])
    with worker_process(concurrency=2):
        waits = [run(long_id, wait=None).json()["id"] for _ in range(2)]
        for execution_id in waits:
            until_waiting(execution_id)
        quick = run(quick_id, wait=30).json()
        assert quick["status"] == "completed"
        assert quick["outputs"] == {"result": 42}
        for execution_id in waits:
            body = status_of(auth_client, execution_id)
            assert body["status"] == "running"  # an execution whose only live node waits
            assert nodes_by_id(body)["pause"]["status"] == "waiting"
            [entry] = body["waiting_on"]
            assert entry["kind"] == "timer" and entry["node_id"] == "pause"
            assert entry["until"] > quick["finished_at"]


@pytest.mark.worker_process
def test_a_wait_survives_the_sigkill_of_its_worker(auth_client) -> None:
    """Kill point: a WAIT waiting. The worker that suspended it dies; a new worker runs it
    when the timer loop wakes it, once, as the same run."""
    from tests.support.workers import worker_process

    workflow_id = waiting_workflow(auth_client, 6)
    with worker_process() as first:
        execution_id = auth_client.post("/api/executions", {"workflow_id": workflow_id}, format="json").json()["id"]
        until_waiting(execution_id)
        first.kill()
    make_due(execution_id)
    with worker_process():
        assert clock.step(timezone.now, 0.5) >= 0  # the clock's turn wakes it
        body = finished(auth_client, execution_id)
    assert body["status"] == "completed", body
    pause = nodes_by_id(body)["pause"]
    assert pause["attempts"] == 1  # woken, not retried
    assert pause["waiting_on"] is None or pause["status"] == "completed"
    assert body["waiting_on"] == []


@pytest.mark.worker_thread
def test_a_timer_found_twice_and_published_twice_resumes_once(celery_worker, auth_client) -> None:
    workflow_id = waiting_workflow(auth_client, 6)
    execution_id = auth_client.post("/api/executions", {"workflow_id": workflow_id}, format="json").json()["id"]
    waiting = until_waiting(execution_id)
    make_due(execution_id)

    # Two clocks find the same due timer at once: one wakes it.
    woken: list[int] = []
    barrier = threading.Barrier(2)

    def one_clock() -> None:
        try:
            barrier.wait()
            woken.append(wake_due(timezone.now(), 100))
        finally:
            connection.close()

    threads = [threading.Thread(target=one_clock) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(woken) == [0, 1]
    # And its task is delivered twice more: the claim lets one run it.
    version_id = Execution.objects.get(id=execution_id).version_id
    publish_now([publish_for(waiting.id, graph_for_version(version_id).nodes["pause"], execution_id)] * 2)

    body = finished(auth_client, execution_id)
    assert body["status"] == "completed"
    pause = pause_of(execution_id)
    assert (pause.runs, pause.resumes, pause.attempts) == (1, 1, 2)
    stream = [e for _, e in events.read(execution_id, "0", None)]
    pause_events = [e["status"] for e in stream if e.get("node_id") == "pause"]
    assert pause_events.count("completed") == 1
    assert pause_events.index("waiting") < pause_events.index("completed")
    waits = [e for e in stream if e.get("node_id") == "pause" and e["status"] == "waiting"]
    assert waits[0]["waiting_on"]["kind"] == "timer"


@pytest.mark.worker_thread
def test_cancel_ends_a_waiting_node_and_no_timer_wakes_it(celery_worker, auth_client) -> None:
    workflow_id = waiting_workflow(auth_client, 600)
    execution_id = auth_client.post("/api/executions", {"workflow_id": workflow_id}, format="json").json()["id"]
    until_waiting(execution_id)
    assert auth_client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"
    NodeRun.objects.filter(execution_id=execution_id, node_id="pause").update(wake_at=timezone.now())
    assert wake_due(timezone.now(), 100) == 0
    body = status_of(auth_client, execution_id)
    assert nodes_by_id(body)["pause"]["status"] == "canceled"
    assert nodes_by_id(body)["result"]["status"] == "canceled"
    assert body["waiting_on"] == []


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_long_retry_backoff_waits_as_a_durable_timer(celery_worker, auth_client, make_workflow, run, server) -> None:
    retry = {"max_attempts": 2, "backoff_s": 20, "max_backoff_s": 20}  # 10 to 20 s: past the countdown limit
    workflow_id = one_call(make_workflow, {"url": server.url("/status/503")}, retry=retry)
    execution_id = run(workflow_id, wait=None).json()["id"]
    call = until_waiting(execution_id, "call")
    assert call.waiting_on["retry"] is True and call.waiting_on["kind"] == "timer"
    assert call.wake_at > timezone.now() + timedelta(seconds=5)
    body = status_of(auth_client, execution_id)
    assert body["status"] == "running"
    assert body["waiting_on"][0]["node_id"] == "call"
    assert nodes_by_id(body)["call"]["attempts"] == 1
    logs = auth_client.get(f"/api/executions/{execution_id}/logs").json()["results"]
    assert any("attempt 2 is due at" in line["message"] for line in logs)

    NodeRun.objects.filter(id=call.id).update(wake_at=timezone.now())
    assert wake_due(timezone.now(), 100) == 1
    body = finished(auth_client, execution_id)
    assert body["status"] == "failed"
    call_out = nodes_by_id(body)["call"]
    assert call_out["attempts"] == 2  # waking a retry's timer is a run, not a resume
    assert server.hits["/status/503"] == 2


@pytest.mark.worker_thread
def test_wait_until_a_time_from_the_inputs(celery_worker, auth_client, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(at={"type": "string"}),
            node("pause", "WAIT", {"until": "{{ inputs.at }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.pause.output }}"}),
        ],
        [edge("start", "pause"), edge("pause", "result")],
    )
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    done = run(workflow_id, {"at": past}).json()
    assert done["status"] == "completed"
    assert done["outputs"]["result"]["waited_s"] == 0

    later = (timezone.now() + timedelta(seconds=60)).isoformat()
    execution_id = run(workflow_id, {"at": later}, wait=None).json()["id"]
    waiting = until_waiting(execution_id)
    assert abs((waiting.wake_at - timezone.now()).total_seconds() - 60) < 10
    assert status_of(auth_client, execution_id)["waiting_on"][0]["until"] == waiting.waiting_on["until"]

    bad = run(workflow_id, {"at": "next tuesday"}).json()
    assert bad["status"] == "failed"
    assert nodes_by_id(bad)["pause"]["error"]["code"] == "invalid_wait"


def test_long_waits_need_the_workflow_and_the_node_to_allow_them(auth_client) -> None:
    def save(definition: dict) -> Any:
        return auth_client.post("/api/workflows", {"name": "w", "definition": definition}, format="json")

    nodes = [
        input_node(),
        node("pause", "WAIT", {"seconds": 2 * 86400}, timeout_s=3 * 86400),
        node("result", "OUTPUT", {"value": 1}),
    ]
    edges = [edge("start", "pause"), edge("pause", "result")]
    refused = save({"nodes": nodes, "edges": edges})
    assert refused.status_code == 400
    [problem] = refused.json()["error"]["details"]
    assert problem["code"] == "invalid_timeout" and problem["path"] == "nodes[1].timeout_s"
    assert "workflow's timeout_s" in problem["message"]
    assert save({"nodes": nodes, "edges": edges, "timeout_s": 3 * 86400}).status_code == 201
    too_long = save({"nodes": nodes, "edges": edges, "timeout_s": 31 * 86400})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["details"][0]["path"] == "timeout_s"
    # A node that runs in a worker keeps the execution's own limit.
    slow_http = [
        input_node(),
        node("call", "HTTP_REQUEST", {"url": "https://example.com"}, timeout_s=86400),
        node("result", "OUTPUT", {"value": 1}),
    ]
    refused = save({"nodes": slow_http, "edges": [edge("start", "call"), edge("call", "result")], "timeout_s": 86400})
    assert refused.status_code == 400
    assert [p["path"] for p in refused.json()["error"]["details"]] == ["nodes[1].timeout_s"]
