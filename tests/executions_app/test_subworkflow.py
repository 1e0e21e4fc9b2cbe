"""SUBWORKFLOW: a workflow calls another as a child execution (a real worker runs both)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.utils import timezone

from executions_app.engine.wakes import wake_due
from executions_app.models import Execution, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id, status_of
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def doubler(make_workflow) -> str:
    """A child: gives {"twice": 2x} for an integer x, and fails for x = 0 (a division)."""
    return make_workflow(
        [
            input_node(x={"type": "integer", "required": True}),
            node("check", "TRANSFORM", {"value": "{{ 10 / inputs.x }}"}),
            node("result", "OUTPUT", {"value": {"twice": "{{ inputs.x * 2 }}"}}),
        ],
        [edge("start", "check"), edge("check", "result")],
        name="doubler",
    )


def caller(make_workflow, target: str, on_error: str = "fail", field: str = "x", **config) -> str:
    """Calls `target` with its `field` set to this one's input n."""
    call = node(
        "call",
        "SUBWORKFLOW",
        {"workflow_id": target, "inputs": {field: "{{ inputs.n }}"}, **config},
        on_error=on_error,
    )
    return make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            call,
            node("result", "OUTPUT", {"value": "{{ nodes.call.output }}"}),
        ],
        [edge("start", "call"), edge("call", "result")],
        name="caller",
    )


@pytest.mark.worker_thread
def test_the_childs_outputs_are_the_nodes_output_and_the_child_is_linked(
    celery_worker, make_workflow, run, auth_client
) -> None:
    parent_id = caller(make_workflow, doubler(make_workflow))
    parent = run(parent_id, {"n": 21}).json()
    assert parent["status"] == "completed", parent
    assert parent["outputs"] == {"result": {"result": {"twice": 42}}}
    assert parent["parent_execution_id"] is None
    listed = auth_client.get("/api/executions").json()["results"]
    assert [e["id"] for e in listed] == [parent["id"]]  # the child is not in the default list
    children = auth_client.get(f"/api/executions?parent={parent['id']}").json()["results"]
    assert len(children) == 1
    child = status_of(auth_client, children[0]["id"])
    assert child["parent_execution_id"] == parent["id"]
    assert child["parent_node_id"] == "call"
    assert child["parent_index"] == 0
    assert child["trigger"] == f"parent:{parent['id']}"
    assert child["inputs"] == {"x": 21}
    assert Execution.objects.get(id=child["id"]).depth == 1
    # The waiting node was woken by the child's end, not re-run: one run of its work.
    assert nodes_by_id(parent)["call"]["attempts"] == 1
    by_trigger = auth_client.get(f"/api/executions?trigger=parent:{parent['id']}&parent={parent['id']}").json()
    assert [e["id"] for e in by_trigger["results"]] == [child["id"]]


@pytest.mark.worker_thread
def test_a_pinned_version_runs_that_version(celery_worker, make_workflow, run, auth_client) -> None:
    target = doubler(make_workflow)
    changed = auth_client.patch(
        f"/api/workflows/{target}",
        {
            "definition": {
                "nodes": [
                    input_node(x={"type": "integer", "required": True}),
                    node("result", "OUTPUT", {"value": {"v2": True}}),
                ],
                "edges": [edge("start", "result")],
            }
        },
        format="json",
    )
    assert changed.status_code == 200, changed.content
    pinned = run(caller(make_workflow, target, version=1), {"n": 2}).json()
    current = run(caller(make_workflow, target), {"n": 2}).json()
    assert pinned["outputs"] == {"result": {"result": {"twice": 4}}}
    assert current["outputs"] == {"result": {"result": {"v2": True}}}


@pytest.mark.worker_thread
def test_a_failed_child_fails_the_node_and_the_execution(celery_worker, make_workflow, run) -> None:
    parent = run(caller(make_workflow, doubler(make_workflow)), {"n": 0}).json()
    assert parent["status"] == "failed"
    call = nodes_by_id(parent)["call"]
    assert call["status"] == "failed"
    assert call["error"]["code"] == "child_failed"
    child = Execution.objects.get(parent_id=parent["id"])
    assert str(child.id) in call["error"]["message"]
    assert "check" in call["error"]["message"]  # the child's failing node is named
    assert child.status == "failed"


@pytest.mark.worker_thread
def test_a_failed_child_with_on_error_continue_gives_the_error(celery_worker, make_workflow, run) -> None:
    parent = run(caller(make_workflow, doubler(make_workflow), on_error="continue"), {"n": 0}).json()
    assert parent["status"] == "completed"
    assert parent["outputs"]["result"]["error"]["code"] == "child_failed"


@pytest.mark.worker_thread
def test_bad_inputs_for_the_child_fail_the_node_clearly(celery_worker, make_workflow, run) -> None:
    target = doubler(make_workflow)
    parent_id = make_workflow(
        [
            input_node(),
            node("call", "SUBWORKFLOW", {"workflow_id": target, "inputs": {"x": "not a number"}}),
            node("result", "OUTPUT", {"value": "{{ nodes.call.output }}"}),
        ],
        [edge("start", "call"), edge("call", "result")],
    )
    parent = run(parent_id).json()
    error = nodes_by_id(parent)["call"]["error"]
    assert error["code"] == "invalid_child_inputs"
    assert "x: must be of type integer" in error["message"]
    assert not Execution.objects.filter(parent_id=parent["id"]).exists()


@pytest.mark.worker_thread
def test_a_target_archived_before_the_run_fails_the_node(celery_worker, make_workflow, run, auth_client) -> None:
    target = doubler(make_workflow)
    parent_id = caller(make_workflow, target)
    assert auth_client.delete(f"/api/workflows/{target}").status_code == 204
    parent = run(parent_id, {"n": 1}).json()
    assert parent["status"] == "failed"
    assert nodes_by_id(parent)["call"]["error"]["code"] == "workflow_not_found"


def sleeper_and_caller(make_workflow, call_timeout_s: float) -> str:
    """A caller of a child that waits 10 minutes."""
    sleeper = make_workflow(
        [
            input_node(x={"type": "integer"}),
            node("pause", "WAIT", {"seconds": 600}, timeout_s=900),
            node("result", "OUTPUT", {"value": "late"}),
        ],
        [edge("start", "pause"), edge("pause", "result")],
        name="sleeper",
    )
    return make_workflow(
        [
            input_node(),
            node("call", "SUBWORKFLOW", {"workflow_id": sleeper}, timeout_s=call_timeout_s),
            node("result", "OUTPUT", {"value": "{{ nodes.call.output }}"}),
        ],
        [edge("start", "call"), edge("call", "result")],
    )


def waiting_child(parent_id: str) -> str:
    waiting = Execution.objects.filter(node_runs__node_id="pause", node_runs__status="waiting")
    return wait_for(lambda: waiting.filter(parent_id=parent_id).values_list("id", flat=True).first())


@pytest.mark.worker_thread
def test_canceling_the_parent_cancels_the_child(celery_worker, make_workflow, run, auth_client) -> None:
    parent = run(sleeper_and_caller(make_workflow, 900), wait=None).json()
    child = waiting_child(parent["id"])
    assert auth_client.post(f"/api/executions/{parent['id']}/cancel").status_code == 200
    assert Execution.objects.get(id=parent["id"]).status == "canceled"
    ended = Execution.objects.get(id=child)
    assert ended.status == "canceled"
    assert ended.error["code"] == "parent_ended"
    assert ended.node_runs.get(node_id="pause").status == "canceled"


@pytest.mark.worker_thread
def test_calls_deeper_than_the_limit_fail_at_run_time(celery_worker, make_workflow, run, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_call_depth=2)
    leaf = doubler(make_workflow)
    middle = caller(make_workflow, leaf)
    upper = caller(make_workflow, middle, field="n")
    assert run(upper, {"n": 1}).json()["status"] == "completed"  # depth 1 calls depth 2: allowed
    top = run(caller(make_workflow, upper, field="n"), {"n": 1}).json()
    assert top["status"] == "failed"
    # top (0) -> upper (1) -> middle (2) -> leaf would be depth 3.
    deepest = Execution.objects.get(depth=2, parent__parent_id=top["id"])
    call = deepest.node_runs.get(node_id="call")
    assert call.error["code"] == "depth_exceeded"
    assert not Execution.objects.filter(parent_id=deepest.id).exists()
    failed = nodes_by_id(top)["call"]
    assert failed["error"]["code"] == "child_failed"


def test_the_parent_filter_takes_an_execution_id(auth_client) -> None:
    refused = auth_client.get("/api/executions?parent=not-an-id")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"parent": ["Enter a valid UUID."]}
    assert auth_client.get("/api/executions?parent=6f1c0c1e-2f7a-4c59-9d7e-0b7f4f4f2a10").json()["count"] == 0


@pytest.mark.worker_thread
def test_a_child_still_running_at_the_nodes_timeout_is_canceled(celery_worker, make_workflow, run) -> None:
    parent = run(sleeper_and_caller(make_workflow, 1), wait=None).json()
    child = waiting_child(parent["id"])

    def ended() -> bool:
        wake_due(timezone.now(), 100)  # the timer loop's step, as the clock runs it
        return Execution.objects.get(id=parent["id"]).status not in ("queued", "running")

    wait_for(ended, timeout=30, interval=0.2)
    call = NodeRun.objects.get(execution_id=parent["id"], node_id="call")
    assert call.error["code"] == "node_timeout"
    assert str(child) in call.error["message"]
    assert Execution.objects.get(id=child).status == "canceled"
