"""The completion of a node in a fan-out and of a join's parents, driven directly (no
worker: what it publishes is captured). On PostgreSQL it is the one-statement path, on
SQLite the transaction; both must fence a stale attempt and release each child exactly
once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from executions_app.engine import publish
from executions_app.engine.completion import complete_node
from executions_app.engine.node_run import run_node
from executions_app.engine.outcome import Outcome
from executions_app.engine.publish import Publish
from executions_app.models import Execution, NodeRun
from tests.support.definitions import edge, input_node, node
from workflows_app.selectors import graph_for_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch) -> list[Publish]:
    sent: list[Publish] = []
    monkeypatch.setattr(publish, "publish_now", lambda items, producer=None, retry=True: sent.extend(items))
    return sent


@pytest.fixture
def fan_out(make_workflow, run) -> Execution:
    """start → a → (b, c) → d → result, left pending with `a` claimed by attempt 2."""
    workflow_id = make_workflow(
        [
            input_node(),
            *(node(n, "TRANSFORM", {"value": n}) for n in "abcd"),
            node("result", "OUTPUT", {"value": "{{ nodes.d.output }}"}),
        ],
        [edge("start", "a"), edge("a", "b"), edge("a", "c"), edge("b", "d"), edge("c", "d"), edge("d", "result")],
    )
    execution = Execution.objects.get(id=run(workflow_id, wait=None).json()["id"])
    NodeRun.objects.filter(execution=execution, node_id="start").update(status="completed")
    NodeRun.objects.filter(execution=execution, node_id="a").update(status="running", attempts=2, pending_parents=0)
    Execution.objects.filter(id=execution.id).update(status="running", remaining_nodes=5)
    return execution


def complete_a(execution: Execution, attempt: int) -> bool:
    return complete(execution, "a", attempt)


def complete(execution: Execution, node_id: str, attempt: int) -> bool:
    """True when the attempt's result was written."""
    row = NodeRun.objects.get(execution=execution, node_id=node_id)
    recorded = complete_node(
        node_run_id=row.id,
        execution_id=execution.id,
        attempt=attempt,
        attempt_log=[],
        graph=graph_for_version(execution.version_id),
        node_id=node_id,
        outcome=Outcome("completed", output=node_id.upper(), attempt_entries=[{"n": attempt, "latency_ms": 1.0}]),
    )
    return recorded is not None


def states(execution: Execution) -> dict[str, tuple[Any, ...]]:
    rows = NodeRun.objects.filter(execution=execution).values_list("node_id", "status", "pending_parents", "output")
    return {node_id: tuple(rest) for node_id, *rest in rows}


def test_a_stale_attempt_writes_nothing_counts_nothing_and_releases_nothing(fan_out, published) -> None:
    before = states(fan_out)

    assert complete_a(fan_out, attempt=1) is False

    assert states(fan_out) == before
    assert Execution.objects.get(id=fan_out.id).remaining_nodes == 5
    assert published == []


def test_the_holding_attempt_records_its_result_and_releases_each_child_once(fan_out, published) -> None:
    assert complete_a(fan_out, attempt=2) is True

    after = states(fan_out)
    assert after["a"] == ("completed", 0, "A")
    assert after["b"][:2] == after["c"][:2] == ("pending", 0)
    assert after["d"][:2] == ("pending", 2)  # the join still waits for both
    assert Execution.objects.get(id=fan_out.id).remaining_nodes == 4
    ids = dict(NodeRun.objects.filter(execution=fan_out).values_list("node_id", "id"))
    assert sorted(p.node_run_id for p in published) == sorted([ids["b"], ids["c"]])
    assert all(p.queue == "nodes" and p.time_limit for p in published)

    # The same message delivered again: the result is already written, nothing moves.
    assert complete_a(fan_out, attempt=2) is False
    assert states(fan_out) == after
    assert len(published) == 2


def test_a_canceled_execution_keeps_the_result_and_starts_nothing(fan_out, published) -> None:
    Execution.objects.filter(id=fan_out.id).update(status="canceled")

    assert complete_a(fan_out, attempt=2) is True

    after = states(fan_out)
    assert after["a"][0] == "completed"
    assert after["b"][:2] == after["c"][:2] == ("pending", 1)
    assert published == []


def test_a_join_is_released_once_by_its_last_parent_and_never_again(fan_out, published) -> None:
    NodeRun.objects.filter(execution=fan_out, node_id="a").update(status="completed")
    NodeRun.objects.filter(execution=fan_out, node_id__in=["b", "c"]).update(
        status="running", attempts=1, pending_parents=0
    )
    Execution.objects.filter(id=fan_out.id).update(remaining_nodes=4)
    join = NodeRun.objects.get(execution=fan_out, node_id="d")

    assert complete(fan_out, "b", attempt=1) is True
    assert states(fan_out)["d"][:2] == ("pending", 1)  # one parent resolved, one to go
    assert published == []

    assert complete(fan_out, "c", attempt=1) is True
    assert states(fan_out)["d"][:2] == ("pending", 0)
    assert [p.node_run_id for p in published] == [join.id]
    assert NodeRun.objects.get(id=join.id).ready_at is not None
    assert Execution.objects.get(id=fan_out.id).remaining_nodes == 2

    # Either parent's message delivered again: nothing moves, the join is not sent twice.
    before = states(fan_out)
    assert complete(fan_out, "b", attempt=1) is False
    assert complete(fan_out, "c", attempt=1) is False
    assert states(fan_out) == before
    assert len(published) == 1


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_superseded_attempt_arriving_after_the_execution_ended_changes_nothing(fan_out, published, status) -> None:
    """Its newer attempt finished the execution; the old one (a slow worker whose lease
    was taken over) reports at last, through the general path a failure takes."""
    Execution.objects.filter(id=fan_out.id).update(status=status, remaining_nodes=0)
    before = states(fan_out)
    row = NodeRun.objects.get(execution=fan_out, node_id="a")
    late = Outcome("failed", error={"code": "http_status", "message": "late"}, attempt_entries=[{"n": 1}])

    recorded = complete_node(
        node_run_id=row.id,
        execution_id=fan_out.id,
        attempt=1,
        attempt_log=[],
        graph=graph_for_version(fan_out.version_id),
        node_id="a",
        outcome=late,
    )

    assert recorded is None
    assert states(fan_out) == before
    assert Execution.objects.get(id=fan_out.id).remaining_nodes == 0
    assert published == []


def test_run_node_returns_what_it_recorded_and_nothing_for_a_node_already_done(make_workflow, run, published) -> None:
    """The node task reports a node's failure from this (workers/task_events.py)."""
    workflow_id = make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / inputs.n }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.divide.output }}"}),
        ],
        [edge("start", "divide"), edge("divide", "result")],
    )
    execution = Execution.objects.get(id=run(workflow_id, {"n": 0}, wait=None).json()["id"])
    start, divide = (NodeRun.objects.get(execution=execution, node_id=n).id for n in ("start", "divide"))

    started = run_node(start)
    failed = run_node(divide)

    assert started is not None and started.status == "completed"
    assert failed is not None and failed.status == "failed"
    assert failed.error == NodeRun.objects.get(id=divide).error
    assert failed.error["code"] == "expression_error"
    assert run_node(divide) is None  # the same message again: nothing to run, nothing recorded


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_one_statement_completion_is_prepared_once_per_connection(fan_out, published) -> None:
    """Django turns psycopg's prepared statements off; the engine's must still be prepared
    (config/settings.py), or every completion is parsed and planned again."""

    def prepared_completions() -> list[tuple[str, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE %s AND from_sql = false",
                ["WITH x AS (SELECT status FROM %"],
            )
            return cursor.fetchall()

    assert complete_a(fan_out, attempt=2) is True
    assert complete_a(fan_out, attempt=2) is False  # the same message again: fenced
    [(_, executions)] = prepared_completions()
    assert executions == 2
