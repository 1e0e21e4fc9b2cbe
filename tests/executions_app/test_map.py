"""MAP: a workflow run once per item, as child executions spread over real workers."""

from __future__ import annotations

import signal

import pytest
from django.db import connection
from django.utils import timezone

from executions_app.engine.sweeper import sweep
from executions_app.engine.wakes import wake_due
from executions_app.models import Execution, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id, status_of
from tests.support.workers import wait_for, worker_process

pytestmark = pytest.mark.django_db(transaction=True)


def item_workflow(make_workflow, name: str = "item", divide: bool = True) -> str:
    """A child for one item x: {"twice": 2x, "at": its index}. A negative x waits 600 s
    first (a child that is still running); x = 0 fails (a division) when `divide`."""
    check = "{{ 10 / inputs.x }}" if divide else "{{ inputs.x }}"
    return make_workflow(
        [
            input_node(x={"type": "integer", "required": True}, at={"type": "integer", "required": True}),
            node("slow", "CONDITION", {"expression": "inputs.x < 0"}),
            node("pause", "WAIT", {"seconds": 600}, timeout_s=900),
            node("check", "TRANSFORM", {"value": check}),
            node("result", "OUTPUT", {"value": {"twice": "{{ inputs.x * 2 }}", "at": "{{ inputs.at }}"}}),
        ],
        [
            edge("start", "slow"),
            edge("slow", "pause", "true"),
            edge("slow", "check", "false"),
            edge("pause", "result"),
            edge("check", "result"),
        ],
        name=name,
    )


def mapper(make_workflow, target: str, **config) -> str:
    """Maps `target` over the input list xs."""
    options = {k: config.pop(k) for k in ("timeout_s", "on_error") if k in config}
    return make_workflow(
        [
            input_node(xs={"type": "array", "required": True}),
            node(
                "each",
                "MAP",
                {
                    "items": "inputs.xs",
                    "workflow_id": target,
                    "inputs": {"x": "{{ item }}", "at": "{{ index }}"},
                    **config,
                },
                **options,
            ),
            node("result", "OUTPUT", {"value": "{{ nodes.each.output }}"}),
        ],
        [edge("start", "each"), edge("each", "result")],
        name="mapper",
    )


def ended_with_clock(client, execution_id: str) -> bool:
    """Whether the execution ended, turning the timer loop first, as the clock process of
    every deployment does (a wake-up a child's end leaves due is the loop's to make)."""
    wake_due(timezone.now(), 100)
    return status_of(client, execution_id)["status"] not in ("queued", "running")


def children_of(execution_id: str) -> list[Execution]:
    return list(Execution.objects.filter(parent_id=execution_id).order_by("parent_index"))


def most_running_at_once(children: list[Execution]) -> int:
    """The most children whose runs (started_at to finished_at) overlapped at one moment."""
    moments = sorted([(c.started_at, 1) for c in children] + [(c.finished_at, -1) for c in children])
    running = most = 0
    for _, change in moments:  # at a tie an end (-1) sorts first: a child that ended frees its slot
        running += change
        most = max(most, running)
    return most


@pytest.mark.worker_process
@pytest.mark.parametrize("count", [25, 1000])
def test_results_come_back_in_order_and_at_most_concurrency_run_at_once(
    count, worker_processes, make_workflow, run, auth_client
) -> None:
    if count > 100 and connection.vendor != "postgresql":
        pytest.skip("1,000 child executions on SQLite's single writer take minutes; run on PostgreSQL")
    target = item_workflow(make_workflow)
    parent_id = mapper(make_workflow, target, concurrency=10, timeout_s=3000)
    xs = list(range(1, count + 1))
    parent = run(parent_id, {"xs": xs}, wait=None).json()
    wait_for(lambda: ended_with_clock(auth_client, parent["id"]), timeout=900)
    parent = status_of(auth_client, parent["id"])
    assert parent["status"] == "completed", parent["error"]
    assert parent["outputs"]["result"] == [{"result": {"twice": 2 * x, "at": i}} for i, x in enumerate(xs)]
    children = children_of(parent["id"])
    assert [c.parent_index for c in children] == list(range(count))
    assert all(c.status == "completed" and c.trigger == f"parent:{parent['id']}" for c in children)
    assert most_running_at_once(children) <= 10
    # Hidden from the default list, listed under their parent.
    assert auth_client.get("/api/executions").json()["count"] == 1
    assert auth_client.get(f"/api/executions?parent={parent['id']}").json()["count"] == count
    each = nodes_by_id(parent)["each"]
    assert each["attempts"] == 1  # every step after the first was a resume


def test_item_inputs_may_read_item_and_index_and_nothing_else_may(make_workflow, auth_client) -> None:
    target = item_workflow(make_workflow)
    refused = auth_client.post(
        "/api/workflows",
        {
            "name": "bad",
            "definition": {
                "nodes": [
                    input_node(xs={"type": "array"}),
                    node("each", "MAP", {"items": "item", "workflow_id": target, "inputs": {"x": "{{ item }}"}}),
                    node("result", "OUTPUT", {"value": "{{ index }}"}),
                ],
                "edges": [edge("start", "each"), edge("each", "result")],
            },
        },
        format="json",
    )
    assert refused.status_code == 400
    paths = {p["path"]: p["code"] for p in refused.json()["error"]["details"]}
    assert paths == {"nodes[1].config.items": "invalid_expression", "nodes[2].config.value": "invalid_expression"}


@pytest.mark.worker_thread
def test_fail_fast_cancels_the_running_items_and_fails_the_node(celery_worker, make_workflow, run) -> None:
    parent_id = mapper(make_workflow, item_workflow(make_workflow), concurrency=2)
    parent = run(parent_id, {"xs": [-1, 0, 5]}).json()
    assert parent["status"] == "failed"
    each = nodes_by_id(parent)["each"]
    assert each["error"]["code"] == "item_failed"
    assert each["error"]["message"].startswith("Item 1: ")
    children = children_of(parent["id"])
    assert [(c.parent_index, c.status) for c in children] == [(0, "canceled"), (1, "failed")]  # item 2 never started
    assert children[0].error["code"] == "canceled_by_parent"


@pytest.mark.worker_thread
def test_collect_lists_each_items_result_or_error(celery_worker, make_workflow, run) -> None:
    parent_id = mapper(make_workflow, item_workflow(make_workflow), concurrency=2, on_item_error="collect")
    parent = run(parent_id, {"xs": [1, 0, 3, "four"]}).json()
    assert parent["status"] == "completed", parent["error"]
    first, failed, last, unstarted = parent["outputs"]["result"]
    assert first == {"index": 0, "output": {"result": {"twice": 2, "at": 0}}}
    assert last == {"index": 2, "output": {"result": {"twice": 6, "at": 2}}}
    assert failed["index"] == 1
    assert failed["error"]["code"] == "child_failed"
    assert failed["error"]["execution_id"] == str(children_of(parent["id"])[1].id)
    assert "check" in failed["error"]["message"]
    # An item whose inputs the workflow refuses never starts; its entry says why.
    assert unstarted["index"] == 3
    assert unstarted["error"]["code"] == "invalid_child_inputs"
    assert "x: must be of type integer" in unstarted["error"]["message"]
    assert len(children_of(parent["id"])) == 3


@pytest.mark.worker_thread
def test_fail_fast_fails_on_an_item_that_cannot_start(celery_worker, make_workflow, run) -> None:
    parent = run(mapper(make_workflow, item_workflow(make_workflow), concurrency=1), {"xs": [1, "two", 3]}).json()
    assert parent["status"] == "failed"
    error = nodes_by_id(parent)["each"]["error"]
    assert error["code"] == "item_failed"
    assert error["message"].startswith("Item 1: The inputs do not fit")
    assert [c.parent_index for c in children_of(parent["id"])] == [0]


@pytest.mark.worker_thread
def test_items_that_are_not_a_list_or_too_many_fail_the_node(celery_worker, make_workflow, run) -> None:
    target = item_workflow(make_workflow)
    too_many = run(mapper(make_workflow, target, max_items=2), {"xs": [1, 2, 3]}).json()
    assert nodes_by_id(too_many)["each"]["error"]["code"] == "too_many_items"
    no_items = run(mapper(make_workflow, target, items="inputs.xs | length"), {"xs": [1]}).json()
    assert nodes_by_id(no_items)["each"]["error"]["code"] == "invalid_items"
    empty = run(mapper(make_workflow, target), {"xs": []}).json()
    assert empty["outputs"] == {"result": []}
    assert not Execution.objects.filter(parent_id__isnull=False).exists()


@pytest.mark.worker_thread
def test_a_retry_from_failure_reuses_the_items_that_completed(celery_worker, make_workflow, run, auth_client) -> None:
    target = item_workflow(make_workflow)
    parent_id = mapper(make_workflow, target, concurrency=1)
    failed = run(parent_id, {"xs": [1, 2, 0, 4]}).json()
    assert failed["status"] == "failed"
    first_children = children_of(failed["id"])
    assert [(c.parent_index, c.status) for c in first_children] == [(0, "completed"), (1, "completed"), (2, "failed")]
    # The item workflow is fixed (the MAP runs its current version); the retry runs the rest.
    fixed = auth_client.get(f"/api/workflows/{target}").json()["definition"]
    next(n for n in fixed["nodes"] if n["id"] == "check")["config"]["value"] = "{{ inputs.x }}"
    assert auth_client.patch(f"/api/workflows/{target}", {"definition": fixed}, format="json").status_code == 200
    retry = auth_client.post(f"/api/executions/{failed['id']}/retry").json()
    wait_for(lambda: ended_with_clock(auth_client, retry["id"]))
    retry = status_of(auth_client, retry["id"])
    assert retry["status"] == "completed", retry["error"]
    assert retry["outputs"]["result"] == [{"result": {"twice": 2 * x, "at": i}} for i, x in enumerate([1, 2, 0, 4])]
    # Items 0 and 1 were not run again: the retry started children for items 2 and 3 only.
    assert [c.parent_index for c in children_of(retry["id"])] == [2, 3]
    assert children_of(failed["id"]) == first_children
    # Three children of the first run, two of the retry.
    assert Execution.objects.filter(parent_id__isnull=False).count() == 5


@pytest.mark.worker_process
def test_a_child_running_under_map_survives_the_sigkill_of_its_worker(make_workflow, run, auth_client) -> None:
    """A worker running one of a MAP's children is killed; another takes the child over
    (the sweeper finds the lost lease) and the MAP completes with every result."""
    child_id = make_workflow(
        [
            input_node(x={"type": "integer", "required": True}, at={"type": "integer", "required": True}),
            node("pause", "WAIT", {"seconds": 2}, retry={"max_attempts": 3}),
            node("result", "OUTPUT", {"value": {"twice": "{{ inputs.x * 2 }}", "at": "{{ inputs.at }}"}}),
        ],
        [edge("start", "pause"), edge("pause", "result")],
        name="sleepy",
    )
    parent_id = mapper(make_workflow, child_id, concurrency=2, timeout_s=600)
    xs = [1, 2, 3, 4, 5]
    with worker_process(concurrency=1) as first, worker_process(concurrency=1) as second:
        parent = run(parent_id, {"xs": xs}, wait=None).json()
        held = NodeRun.objects.filter(execution__parent_id=parent["id"], node_id="pause", status="running")
        holder = wait_for(lambda: held.values_list("claimed_by", flat=True).first(), timeout=30)
        victim = next(w for w in (first, second) if w.process.pid == int(holder.split("|")[1]))
        victim.kill(signal.SIGKILL)

        def finished() -> bool:
            sweep()  # as beat would
            return status_of(auth_client, parent["id"])["status"] not in ("queued", "running")

        wait_for(finished, timeout=120, interval=0.5)
    parent = status_of(auth_client, parent["id"])
    assert parent["status"] == "completed", parent["error"]
    assert parent["outputs"]["result"] == [{"result": {"twice": 2 * x, "at": i}} for i, x in enumerate(xs)]
    retaken = NodeRun.objects.filter(execution__parent_id=parent["id"], node_id="pause", attempts=2)
    assert retaken.count() == 1  # the killed child's WAIT ran again, once
    assert Execution.objects.filter(parent_id=parent["id"]).count() == len(xs)
