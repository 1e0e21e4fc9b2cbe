"""The engine across real workers: every node its own task, joins decided once."""

from __future__ import annotations

from datetime import datetime

import pytest

from config.celery import app
from executions_app.models import NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id
from tests.support.workers import ping_workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker_thread
def test_linear_workflow_passes_values_down_the_chain(celery_worker, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(name={"type": "string", "required": True}, times={"type": "integer", "default": 2}),
            node("greet", "TRANSFORM", {"value": {"text": "Hello {{ inputs.name }}", "n": "{{ inputs.times }}"}}),
            node("shout", "TRANSFORM", {"value": "{{ nodes.greet.output.text | upper }}"}),
            node(
                "result",
                "OUTPUT",
                {
                    "value": {
                        "text": "{{ nodes.shout.output }}",
                        "n": "{{ nodes.greet.output.n }}",
                        "by": "{{ workflow.name }} v{{ workflow.version }}",
                    }
                },
            ),
        ],
        [edge("start", "greet"), edge("greet", "shout"), edge("shout", "result")],
        name="Greeter",
    )
    response = run(workflow_id, {"name": "Ada"})
    assert response.status_code == 200, response.content
    execution = response.json()
    assert execution["status"] == "completed"
    assert execution["outputs"] == {"result": {"text": "HELLO ADA", "n": 2, "by": "Greeter v1"}}
    assert execution["inputs"] == {"name": "Ada", "times": 2}
    runs = nodes_by_id(execution)
    assert [runs[n]["status"] for n in ("start", "greet", "shout", "result")] == ["completed"] * 4
    assert all(r["attempts"] == 1 and r["attempt_log"][0]["n"] == 1 for r in runs.values())
    assert execution["duration_ms"] is not None
    assert execution["workflow_version"] == 1


@pytest.mark.worker_process
def test_diamond_branches_run_at_the_same_time(worker_processes, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("left", "WAIT", {"seconds": 0.6}),
            node("right", "WAIT", {"seconds": 0.6}),
            node("join", "TRANSFORM", {"value": "{{ nodes.left.output.waited_s + nodes.right.output.waited_s }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.join.output }}"}),
        ],
        [
            edge("start", "left"),
            edge("start", "right"),
            edge("left", "join"),
            edge("right", "join"),
            edge("join", "result"),
        ],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    runs = nodes_by_id(execution)
    left, right = runs["left"], runs["right"]
    start = max(datetime.fromisoformat(left["started_at"]), datetime.fromisoformat(right["started_at"]))
    end = min(datetime.fromisoformat(left["finished_at"]), datetime.fromisoformat(right["finished_at"]))
    assert (end - start).total_seconds() > 0.3, "the two branches did not overlap"
    assert runs["join"]["attempts"] == 1
    assert execution["outputs"]["result"] == pytest.approx(1.2)


@pytest.mark.worker_process
def test_join_with_eight_parents_finishing_together_runs_once(worker_processes, make_workflow, run) -> None:
    parents = [f"p{i}" for i in range(8)]
    workflow_id = make_workflow(
        [
            input_node(),
            *[node(p, "TRANSFORM", {"value": p}) for p in parents],
            node("join", "TRANSFORM", {"value": [f"{{{{ nodes.{p}.output }}}}" for p in parents]}),
            node("result", "OUTPUT", {"value": "{{ nodes.join.output | join(',') }}"}),
        ],
        [*[edge("start", p) for p in parents], *[edge(p, "join") for p in parents], edge("join", "result")],
    )
    for _ in range(3):
        execution = run(workflow_id).json()
        assert execution["status"] == "completed", execution
        assert execution["outputs"]["result"] == ",".join(parents)
        join = nodes_by_id(execution)["join"]
        assert join["attempts"] == 1
        assert len(join["attempt_log"]) == 1


def branching_workflow(make_workflow) -> str:
    return make_workflow(
        [
            input_node(score={"type": "number", "required": True}),
            node("check", "CONDITION", {"expression": "inputs.score > 0.5"}),
            node("good", "TRANSFORM", {"value": "good"}),
            node("good_more", "TRANSFORM", {"value": "{{ nodes.good.output }}!"}),
            node("good_out", "OUTPUT", {"value": "{{ nodes.good_more.output }}"}),
            node("bad", "TRANSFORM", {"value": "bad"}),
            node("bad_more", "TRANSFORM", {"value": "{{ nodes.bad.output }}!"}),
            node(
                "summary",
                "OUTPUT",
                {"value": {"good": "{{ nodes.good_more.output }}", "bad": "{{ nodes.bad_more.output }}"}},
            ),
        ],
        [
            edge("start", "check"),
            edge("check", "good", "true"),
            edge("good", "good_more"),
            edge("good_more", "good_out"),
            edge("check", "bad", "false"),
            edge("bad", "bad_more"),
            edge("good_more", "summary"),
            edge("bad_more", "summary"),
        ],
    )


@pytest.mark.worker_thread
def test_condition_true_skips_the_false_branch_through_every_level(celery_worker, make_workflow, run) -> None:
    execution = run(branching_workflow(make_workflow), {"score": 0.9}).json()
    assert execution["status"] == "completed"
    runs = nodes_by_id(execution)
    assert runs["check"]["output"] == {"result": True}
    assert {n: runs[n]["status"] for n in ("good", "good_more", "good_out", "summary")} == dict.fromkeys(
        ("good", "good_more", "good_out", "summary"), "completed"
    )
    assert runs["bad"]["status"] == runs["bad_more"]["status"] == "skipped"
    assert runs["bad"]["attempts"] == 0
    # A reference to a skipped node's output is null.
    assert execution["outputs"] == {"good_out": "good!", "summary": {"good": "good!", "bad": None}}


@pytest.mark.worker_thread
def test_condition_false_skips_the_true_branch_and_its_output(celery_worker, make_workflow, run) -> None:
    execution = run(branching_workflow(make_workflow), {"score": 0.1}).json()
    assert execution["status"] == "completed"
    runs = nodes_by_id(execution)
    assert [runs[n]["status"] for n in ("good", "good_more", "good_out")] == ["skipped"] * 3
    assert runs["bad_more"]["status"] == "completed"
    assert execution["outputs"] == {"summary": {"good": None, "bad": "bad!"}}


@pytest.mark.worker_thread
def test_on_error_continue_records_the_error_and_goes_on(celery_worker, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / inputs.n }}"}, on_error="continue"),
            node("result", "OUTPUT", {"value": {"error": "{{ nodes.divide.output.error.code }}"}}),
        ],
        [edge("start", "divide"), edge("divide", "result")],
    )
    execution = run(workflow_id, {"n": 0}).json()
    assert execution["status"] == "completed", execution
    divide = nodes_by_id(execution)["divide"]
    assert divide["status"] == "failed"
    assert divide["output"]["error"]["code"] == divide["error"]["code"]
    assert execution["outputs"]["result"]["error"] == divide["error"]["code"]


@pytest.mark.worker_thread
def test_a_failed_node_fails_the_execution_and_cancels_nodes_never_started(celery_worker, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / inputs.n }}"}),
            node("after", "TRANSFORM", {"value": "{{ nodes.divide.output }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.after.output }}"}),
        ],
        [edge("start", "divide"), edge("divide", "after"), edge("after", "result")],
    )
    execution = run(workflow_id, {"n": 0}).json()
    assert execution["status"] == "failed"
    assert execution["error"]["node_id"] == "divide"
    assert execution["error"]["message"]
    runs = nodes_by_id(execution)
    assert runs["divide"]["status"] == "failed"
    assert runs["after"]["status"] == runs["result"]["status"] == "canceled"
    assert runs["after"]["attempts"] == 0


@pytest.mark.worker_thread
def test_a_redelivered_task_for_a_completed_node_changes_nothing(celery_worker, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("t", "TRANSFORM", {"value": "x"}),
            node("result", "OUTPUT", {"value": "{{ nodes.t.output }}"}),
        ],
        [edge("start", "t"), edge("t", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "completed"
    before = {
        r.node_id: (r.attempts, r.finished_at, r.output) for r in NodeRun.objects.filter(execution_id=execution["id"])
    }
    for run_id in NodeRun.objects.filter(execution_id=execution["id"]).values_list("id", flat=True):
        # As the sweeper sends it (no lease) and as the engine does (the one-statement claim).
        app.send_task("workers.node_run", args=[run_id], queue="nodes")
        app.send_task("workers.node_run", args=[run_id], kwargs={"lease_s": 330}, queue="nodes")
    ping_workers(queue="nodes")  # one queue, one solo worker: the redeliveries came first
    after = {
        r.node_id: (r.attempts, r.finished_at, r.output) for r in NodeRun.objects.filter(execution_id=execution["id"])
    }
    assert after == before


# What PostgreSQL's jsonb cannot store: a NUL, or half of a surrogate pair.
@pytest.mark.worker_thread
@pytest.mark.parametrize("character", ["\\x00", "\\ud800"], ids=["NUL", "lone surrogate"])
def test_an_output_with_a_character_jsonb_refuses_fails_the_node_clearly(
    celery_worker, make_workflow, run, character: str
) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("t", "TRANSFORM", {"value": {"text": f"{{{{ 'a' ~ '{character}' }}}}", "plain": "back\\u0000slash"}}),
            node("result", "OUTPUT", {"value": "{{ nodes.t.output }}"}),
        ],
        [edge("start", "t"), edge("t", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "failed", execution
    assert nodes_by_id(execution)["t"]["error"]["code"] == "output_invalid"
