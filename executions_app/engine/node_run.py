"""A node run's life, read top to bottom: claim it (claim.py), run the node, complete it
(completion.py: record the outcome and decide its children), publish what became ready.

A task for a node that is already finished, not ready, or whose lease another worker
holds does nothing, so a message delivered twice changes nothing. The claim is a
conditional update under a lease; the completion is fenced by the attempt number, so
only the attempt that holds the claim writes (docs/architecture.md, "Execution
semantics")."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.utils import timezone

from executions_app import events
from executions_app.engine import notify
from executions_app.engine.backoff import backoff_delay, schedule_retry
from executions_app.engine.claim import Claim, WorkerLost, claim_node
from executions_app.engine.completion import complete_node
from executions_app.engine.context import HeldEvents, build_context
from executions_app.engine.errors import NodeError, classify
from executions_app.engine.outcome import Outcome
from executions_app.engine.output_check import check_output_size
from executions_app.engine.publish import publish_for, run_timeout_s
from executions_app.engine.storage import ClaimedRun, storage
from executions_app.engine.suspension import suspend_node
from executions_app.models import ExecutionStatus, NodeRunStatus
from workflows_app.graph import Graph, NodeSpec
from workflows_app.nodes.base import DeferredWrite, NodeContext, Suspend

logger = logging.getLogger(__name__)

LIMITS = settings.SWITCHBOARD


def run_node(node_run_id: int, lease_s: float | None = None) -> Outcome | None:
    """The node task's one call. `lease_s`, sent with the task by the engine, lets the
    storage claim a ready node and read what running it needs in one statement.

    Returns the outcome this call recorded for the node, or None when it recorded none
    (nothing to run, the claim lost, a retry scheduled): the node task reports a node
    that failed as a failed task (workers/task_events.py)."""
    claim = claim_node(node_run_id, lease_s)
    if isinstance(claim, WorkerLost):
        return fail_worker_lost(node_run_id, claim.run, claim.graph)
    if claim is None:
        return None
    run, spec = claim.run, claim.spec
    timeout_s = run_timeout_s(spec)
    node_running = events.node_event(run.node_id, NodeRunStatus.RUNNING, attempt=claim.runs, at=time.time())
    # The `running` event goes out now, or with the result (Node.in_process), or in the
    # node's own first Redis round trip (Node.announces_start) if it makes one.
    held = HeldEvents(run.execution_id, [])
    if claim.graph.parents(run.node_id) or not start_execution(run.execution_id, [node_running]):
        if spec.node.in_process or spec.node.announces_start:
            held = HeldEvents(run.execution_id, [node_running])
        else:
            events.emit_now(run.execution_id, [node_running])

    started = time.monotonic()
    announce_start = held.add_to if held.held and spec.node.announces_start else None
    deadline = started + node_time_budget(run, timeout_s)
    ctx = build_context(run, claim.graph, node_run_id=node_run_id, deadline=deadline, announce_start=announce_start)
    try:
        return run_claimed(node_run_id, claim, ctx, started, held)
    finally:
        for callback in ctx.after_record:  # the node's bookkeeping, once its result is recorded
            try:
                callback()
            except Exception:  # one failing must neither stop the others nor hide the run's error
                logger.warning("bookkeeping after node run %s failed", node_run_id, exc_info=True)


def fail_worker_lost(node_run_id: int, run: ClaimedRun, graph: Graph) -> Outcome | None:
    """A node whose worker keeps dying fails when its attempts run out."""
    spec = graph.nodes[run.node_id]
    runs = run.attempts - run.resumes
    message = f"The worker running this node stopped {runs} time(s); no attempts left."
    entries = [{"n": runs, "error_code": "worker_lost", "latency_ms": None}]
    return complete_node(
        node_run_id=node_run_id,
        execution_id=run.execution_id,
        attempt=run.attempts,
        attempt_log=run.attempt_log,
        graph=graph,
        node_id=run.node_id,
        outcome=failure_outcome(spec, NodeError("worker_lost", message, retryable=False), entries),
    )


def start_execution(execution_id: Any, node_events: list[dict[str, Any]]) -> bool:
    """A root node's first claim marks its queued execution running."""
    now = timezone.now()
    if storage().start_execution(execution_id, now):
        notify.execution_status_changed(execution_id, ExecutionStatus.RUNNING, now, node_events)
        return True
    return False


# --- run --------------------------------------------------------------------------------


def run_claimed(node_run_id: int, claim: Claim, ctx: NodeContext, started: float, held: HeldEvents) -> Outcome | None:
    """Runs the claimed node with its context and completes it (returning the outcome
    recorded), or schedules a retry (returning None). `held`: the node's `running` event,
    when it has not gone out yet."""
    run, spec, attempt = claim.run, claim.spec, claim.attempt
    outcome: Outcome
    try:
        output = spec.node.run(ctx)
        if isinstance(output, Suspend):
            suspend_node(
                node_run_id=node_run_id,
                execution_id=run.execution_id,
                node_id=run.node_id,
                attempt=attempt,
                suspend=output,
                started_events=held.unsent(),
            )
            return None
        if not isinstance(output, DeferredWrite):
            check_output_size(output)
        outcome = Outcome(NodeRunStatus.COMPLETED, output=output)
    except Exception as exc:
        error = classify(exc)
        entries = attempt_entries(claim.runs, started, ctx, error_code=error.code)
        if error.retryable and claim.runs < spec.retry.max_attempts:
            events.emit_now(run.execution_id, held.unsent())
            schedule_retry(
                execution_id=run.execution_id,
                node_id=run.node_id,
                node_run_id=node_run_id,
                attempt=attempt,
                attempt_log=run.attempt_log,
                entries=entries,
                error=error.as_dict(),
                delay_s=backoff_delay(spec.retry, claim.runs, error.retry_after_s),
                publish=publish_for(node_run_id, spec, run.execution_id),
            )
            return None
        outcome = failure_outcome(spec, error, entries)
    else:
        outcome.attempt_entries = attempt_entries(claim.runs, started, ctx)

    def on_write_error(exc: Exception) -> Outcome:
        error = classify(exc)
        return failure_outcome(spec, error, attempt_entries(claim.runs, started, ctx, error_code=error.code))

    return complete_node(
        node_run_id=node_run_id,
        execution_id=run.execution_id,
        attempt=attempt,
        attempt_log=run.attempt_log,
        graph=claim.graph,
        node_id=run.node_id,
        outcome=outcome,
        on_write_error=on_write_error,
        started_events=held.unsent(),
    )


def failure_outcome(spec: NodeSpec, error: NodeError, entries: list[dict[str, Any]]) -> Outcome:
    """A node failed for good: with on_error "continue" its output carries the error."""
    continue_on_error = spec.on_error == "continue"
    return Outcome(
        NodeRunStatus.FAILED,
        output={"error": error.as_dict()} if continue_on_error else None,
        error=error.as_dict(),
        continue_on_error=continue_on_error,
        attempt_entries=entries,
    )


def node_time_budget(run: ClaimedRun, timeout_s: float) -> float:
    """Seconds this attempt may take: the node's timeout, never past the execution's
    deadline (a node started late gets what is left)."""
    if run.deadline_at is None:
        return timeout_s
    return max(0.0, min(timeout_s, (run.deadline_at - timezone.now()).total_seconds()))


def attempt_entries(
    attempt: int, started: float, ctx: NodeContext, error_code: str | None = None
) -> list[dict[str, Any]]:
    """This claim's lines of attempt_log: one per outside call the node reported (an AI
    node's providers), or one for the whole attempt."""
    calls = list(ctx.attempt_calls or [])
    if not calls:
        entry: dict[str, Any] = {"latency_ms": round((time.monotonic() - started) * 1000, 2)}
        if error_code:
            entry["error_code"] = error_code
        calls = [entry]
    elif error_code and not calls[-1].get("error_code"):
        calls[-1] = {**calls[-1], "error_code": error_code}
    return [{**call, "n": attempt} for call in calls]
