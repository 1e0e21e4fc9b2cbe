"""Retry from failure: a new execution on the same version and inputs that reuses the
completed nodes' outputs (`reused_from`) and runs the rest."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.api import Conflict
from executions_app.engine import notify
from executions_app.engine.execution_end import end_completed
from executions_app.engine.joins import resolve_children
from executions_app.engine.outcome import Outcome
from executions_app.engine.publish import Publish, publish_for
from executions_app.engine.storage.portable import insert_node_runs
from executions_app.models import (
    ACTIVE_EXECUTION_STATUSES,
    Execution,
    ExecutionLog,
    ExecutionStatus,
    NodeRun,
    NodeRunStatus,
)
from workflows_app.selectors import graph_for_version, workflow_get

RETRYABLE = (ExecutionStatus.FAILED, ExecutionStatus.CANCELED)


def reusable_nodes(graph: Any, original_runs: dict[str, NodeRun]) -> set[str]:
    """Nodes completed in the original whose every ancestor completed or was skipped
    there: replaying them reproduces the same decisions downstream."""
    settled = {NodeRunStatus.COMPLETED, NodeRunStatus.SKIPPED}
    reusable: set[str] = set()
    memo: dict[str, bool] = {}

    def ancestors_settled(node_id: str) -> bool:
        if node_id not in memo:
            memo[node_id] = all(
                original_runs[e.source].status in settled and ancestors_settled(e.source)
                for e in graph.parents(node_id)
            )
        return memo[node_id]

    for node_id, run in original_runs.items():
        if run.status == NodeRunStatus.COMPLETED and ancestors_settled(node_id):
            reusable.add(node_id)
    return reusable


def execution_retry(*, execution: Execution) -> Execution:
    """A new execution of a failed or canceled one. Refused as a new execution would be:
    404 when the workflow is archived, 409 workflow_inactive when it is switched off."""
    if execution.status not in RETRYABLE:
        raise Conflict(
            f"Only failed or canceled executions can be retried; this one is {execution.status}.",
            code="not_retryable",
        )
    workflow = workflow_get(execution.owner_id, execution.workflow_id)  # NotFound once archived
    if not workflow.is_active:
        raise Conflict("This workflow is inactive and cannot be run.", code="workflow_inactive")
    graph = graph_for_version(execution.version_id)
    original_runs = {run.node_id: run for run in NodeRun.objects.filter(execution=execution)}
    reuse = reusable_nodes(graph, original_runs)
    now = timezone.now()
    assert execution.deadline_at is not None, "an execution is created with its deadline"
    with transaction.atomic():
        refuse_a_second_retry(execution)
        retry = Execution.objects.create(
            owner_id=execution.owner_id,
            workflow_id=execution.workflow_id,
            version_id=execution.version_id,
            inputs=execution.inputs,
            remaining_nodes=len(graph.nodes),
            retried_from=execution,
            trigger="retry",
            deadline_at=now + (execution.deadline_at - execution.created_at),
            started_at=now,
            status=ExecutionStatus.RUNNING,
        )
        runs = insert_node_runs(retry, graph, now)
        by_node = {run.node_id: run for run in runs}
        node_of_run = {run.pk: run.node_id for run in runs}
        to_publish, remaining = replay_reused(retry, graph, reuse, original_runs, by_node, node_of_run, now)
        ExecutionLog.objects.create(
            execution=retry,
            level="info",
            message=f"Retry of {execution.id}: {len(reuse)} node(s) reused, the rest run again.",
        )
        # Published after the execution's event, so that it precedes its nodes'.
        notify.execution_status_changed(retry.id, ExecutionStatus.RUNNING, now, publish=to_publish)
        if remaining <= 0:  # every node reused: done already, made known after `running`
            end_completed(retry.id, graph, now, [])
    retry.refresh_from_db()
    return retry


def refuse_a_second_retry(execution: Execution) -> None:
    """A retry while an earlier retry of the same execution still runs is a double click
    (every node not reused, paid AI calls included, would run twice): 409 naming it.
    Two requests at once take turns on the original's row lock."""
    Execution.objects.select_for_update().filter(id=execution.id).values_list("id", flat=True).first()
    running = (
        Execution.objects.filter(retried_from=execution, status__in=ACTIVE_EXECUTION_STATUSES)
        .values_list("id", flat=True)
        .first()
    )
    if running is not None:
        raise Conflict(
            f"This execution is already being retried by {running}; wait for that one, or cancel it first.",
            code="retry_in_progress",
            details={"execution_id": str(running)},
        )


def replay_reused(
    retry: Execution,
    graph: Any,
    reuse: set[str],
    original_runs: dict[str, NodeRun],
    by_node: dict[str, NodeRun],
    node_of_run: dict[int, str],
    now: Any,
) -> tuple[list[Publish], int]:
    """Marks reused nodes completed in topological order, resolving their children as
    their completion would; returns the nodes to run and how many nodes remain."""
    to_publish: list[Publish] = []
    remaining = len(graph.nodes)
    frontier = [node_id for node_id in graph.nodes if not graph.parents(node_id)]
    while frontier:
        node_id = frontier.pop()
        if node_id not in reuse:
            to_publish.append(publish_for(by_node[node_id].pk, graph.nodes[node_id], retry.id))
            continue
        original = original_runs[node_id]
        NodeRun.objects.filter(id=by_node[node_id].pk).update(
            status=NodeRunStatus.COMPLETED,
            output=original.output,
            reused_from=original.pk,
            started_at=now,
            finished_at=now,
            ready_at=now,
        )
        ready, skipped = resolve_children(
            retry.id, graph, node_id, Outcome(NodeRunStatus.COMPLETED, output=original.output), now
        )
        remaining -= 1 + len(skipped)
        frontier += [node_of_run[item.node_run_id] for item in ready]
    if remaining > 0:
        Execution.objects.filter(id=retry.id).update(remaining_nodes=remaining)
    return to_publish, remaining
