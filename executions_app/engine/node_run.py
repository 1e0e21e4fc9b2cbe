"""A node run's life, read top to bottom: claim it, run the node, complete it (record
the outcome and decide its children), publish what became ready.

A task for a node that is already finished, not ready, or whose lease another worker
holds does nothing, so a message delivered twice changes nothing. The claim is a
conditional update under a lease; the completion is fenced by the attempt number, so
only the attempt that holds the claim writes (docs/architecture.md, "Execution
semantics")."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import heartbeat
from executions_app import events
from executions_app.engine import notify
from executions_app.engine.backoff import backoff_delay, schedule_retry
from executions_app.engine.context import HeldEvents, build_context
from executions_app.engine.errors import NodeError, classify
from executions_app.engine.execution_end import end_completed, end_failed
from executions_app.engine.joins import resolve_children
from executions_app.engine.outcome import Outcome
from executions_app.engine.output_check import check_output_size
from executions_app.engine.publish import publish_for, publish_on_commit
from executions_app.engine.storage import ClaimedRun, Recorded, storage
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionStatus, NodeRunStatus
from workflows_app.graph import Graph, NodeSpec
from workflows_app.nodes.base import DeferredWrite, NodeContext
from workflows_app.selectors import graph_for_version

logger = logging.getLogger(__name__)

LIMITS = settings.SWITCHBOARD
# A delayed retry message may arrive a little before its row's ready_at (clock skew
# between the publishing and the consuming process).
READY_TOLERANCE = timedelta(seconds=2)


@dataclass(slots=True)
class Claim:
    """A node run this worker holds: as read, the version's graph, and the attempt number."""

    run: ClaimedRun
    graph: Graph
    attempt: int

    @property
    def spec(self) -> NodeSpec:
        return self.graph.nodes[self.run.node_id]


def run_node(node_run_id: int, lease_s: float | None = None) -> Outcome | None:
    """The node task's one call. `lease_s`, sent with the task by the engine, lets the
    storage claim a ready node and read what running it needs in one statement.

    Returns the outcome this call recorded for the node, or None when it recorded none
    (nothing to run, the claim lost, a retry scheduled): the node task reports a node
    that failed as a failed task (workers/task_events.py)."""
    claim = claim_node(node_run_id, lease_s)
    if not isinstance(claim, Claim):
        return claim
    run, spec = claim.run, claim.spec
    timeout_s = spec.timeout_s or LIMITS.default_node_timeout_s
    node_running = events.node_event(run.node_id, NodeRunStatus.RUNNING, attempt=claim.attempt, at=time.time())
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
    ctx = build_context(run, claim.graph, deadline=deadline, announce_start=announce_start)
    try:
        return run_claimed(node_run_id, claim, ctx, started, held)
    finally:
        for callback in ctx.after_record:  # the node's bookkeeping, once its result is recorded
            try:
                callback()
            except Exception:  # one failing must neither stop the others nor hide the run's error
                logger.warning("bookkeeping after node run %s failed", node_run_id, exc_info=True)


# --- claim ------------------------------------------------------------------------------


def claim_node(node_run_id: int, lease_s: float | None) -> Claim | Outcome | None:
    """The claim: the fused one for a ready node when the task carries its lease, else
    the general path. None when there is nothing to run; the failure recorded instead of
    a claim when the node's workers kept dying (fail_worker_lost)."""
    if lease_s:
        now = timezone.now()
        run = storage().claim_ready(
            node_run_id,
            now=now,
            ready_by=now + READY_TOLERANCE,
            lease_until=now + timedelta(seconds=lease_s),
            holder=heartbeat.holder_identity(),
        )
        if run is not None:
            return Claim(run, graph_for_version(run.version_id), run.attempts)
    return read_and_claim(node_run_id)


def read_and_claim(node_run_id: int) -> Claim | Outcome | None:
    """The general path: read the node run, then claim it if it is ready, or take it over
    from a holder that is gone. None when there is nothing to run, the failure it recorded
    when the node has no attempts left."""
    run = storage().read(node_run_id, timezone.now())
    if run is None or run.execution_status not in ACTIVE_EXECUTION_STATUSES:
        return None  # pruned, or the execution ended: nothing more starts
    graph = graph_for_version(run.version_id)
    spec = graph.nodes[run.node_id]
    dead_holder = None
    if run.status == NodeRunStatus.RUNNING:
        dead_holder = lease_lost_by(run)
        if dead_holder is None:
            return None  # a live worker holds the lease
        if run.attempts >= max(spec.retry.max_attempts, LIMITS.worker_lost_max_attempts):
            return fail_worker_lost(node_run_id, run, graph)
    timeout_s = spec.timeout_s or LIMITS.default_node_timeout_s
    now = timezone.now()
    won = storage().claim(
        node_run_id,
        run.attempts,
        now=now,
        ready_by=now + READY_TOLERANCE,
        lease_until=now + timedelta(seconds=timeout_s + LIMITS.lease_grace_s),
        holder=heartbeat.holder_identity(),
        dead_holder=dead_holder,
    )
    return Claim(run, graph, run.attempts + 1) if won else None


def lease_lost_by(run: ClaimedRun) -> str | None:
    """The holder of a running node's lease if that holder is gone, else None."""
    holder = run.claimed_by or ""
    if run.lease_expired:
        return holder or "expired"
    return holder if holder and holder in heartbeat.dead_holders({holder}) else None


def fail_worker_lost(node_run_id: int, run: ClaimedRun, graph: Graph) -> Outcome | None:
    """A node whose worker keeps dying fails when its attempts run out."""
    spec = graph.nodes[run.node_id]
    message = f"The worker running this node stopped {run.attempts} time(s); no attempts left."
    entries = [{"n": run.attempts, "error_code": "worker_lost", "latency_ms": None}]
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
        if not isinstance(output, DeferredWrite):
            check_output_size(output)
        outcome = Outcome(NodeRunStatus.COMPLETED, output=output)
    except Exception as exc:
        error = classify(exc)
        entries = attempt_entries(attempt, started, ctx, error_code=error.code)
        if error.retryable and attempt < spec.retry.max_attempts:
            events.emit_now(run.execution_id, held.unsent())
            schedule_retry(
                execution_id=run.execution_id,
                node_id=run.node_id,
                node_run_id=node_run_id,
                attempt=attempt,
                attempt_log=run.attempt_log,
                entries=entries,
                error=error.as_dict(),
                delay_s=backoff_delay(spec.retry, attempt, error.retry_after_s),
                publish=publish_for(node_run_id, spec, run.execution_id),
            )
            return None
        outcome = failure_outcome(spec, error, entries)
    else:
        outcome.attempt_entries = attempt_entries(attempt, started, ctx)

    def on_write_error(exc: Exception) -> Outcome:
        error = classify(exc)
        return failure_outcome(spec, error, attempt_entries(attempt, started, ctx, error_code=error.code))

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


# --- complete and publish ---------------------------------------------------------------


def apply_deferred_write(outcome: Outcome, on_error: Callable[[Exception], Outcome] | None) -> Outcome:
    """Runs a node's database effect in a savepoint of the completion transaction."""
    try:
        with transaction.atomic():
            output = outcome.output.apply()
            check_output_size(output)
    except Exception as exc:
        if on_error is None:
            raise
        return on_error(exc)
    return replace(outcome, output=output)


def complete_node(
    *,
    node_run_id: int,
    execution_id: Any,
    attempt: int,
    attempt_log: list[Any],
    graph: Graph,
    node_id: str,
    outcome: Outcome,
    on_write_error: Callable[[Exception], Outcome] | None = None,
    started_events: list[dict[str, Any]] | None = None,
) -> Outcome | None:
    """Records the outcome of attempt `attempt` and returns it as recorded (a deferred
    write that failed records a failure). Returns None when the attempt lost its claim (a
    newer attempt owns the node) and nothing was written; a deferred write is then
    rolled back with the rest. `started_events` (the node's `running`, held back for an
    in-process node) go out first, with the rest."""
    now = timezone.now()
    if _straight_through(graph, node_id, outcome):
        return _complete_straight(
            node_run_id, execution_id, attempt, attempt_log, graph, node_id, outcome, now, started_events
        )
    with transaction.atomic():
        status, remaining, written, outcome = _count_down_and_record(
            execution_id, node_run_id, attempt, attempt_log, outcome, now, on_write_error
        )
        if not written:
            transaction.set_rollback(True)
            return None
        node_events = [*(started_events or []), events.node_event(node_id, outcome.status)]
        if status not in ACTIVE_EXECUTION_STATUSES:
            # Canceled or failed meanwhile: the result is kept, nothing more starts.
            events.emit_after_commit(execution_id, node_events)
        elif outcome.status == NodeRunStatus.FAILED and not outcome.continue_on_error:
            end_failed(execution_id, node_id=node_id, error=outcome.error or {}, now=now, node_events=node_events)
        else:
            ready, skipped = resolve_children(execution_id, graph, node_id, outcome, now)
            node_events += [events.node_event(skipped_id, NodeRunStatus.SKIPPED) for skipped_id in skipped]
            remaining -= len(skipped)
            if remaining <= 0:
                end_completed(execution_id, graph, now, node_events)
            else:
                if skipped:
                    Execution.objects.filter(id=execution_id).update(remaining_nodes=remaining)
                publish_on_commit(ready, (execution_id, node_events))
    return outcome


def _straight_through(graph: Graph, node_id: str, outcome: Outcome) -> bool:
    """A completed node whose edges out are all unbranched (a chain step, a fan-out's root,
    a join's parent), with no database effect of its own: where the storage can
    (PostgreSQL), its whole completion is one statement (record_and_release)."""
    return (
        outcome.status == NodeRunStatus.COMPLETED
        and not isinstance(outcome.output, DeferredWrite)
        and storage().releases_straight
        and bool(graph.straight_children(node_id))
    )


def _complete_straight(
    node_run_id: int,
    execution_id: Any,
    attempt: int,
    attempt_log: list[Any],
    graph: Graph,
    node_id: str,
    outcome: Outcome,
    now: Any,
    started_events: list[dict[str, Any]] | None,
) -> Outcome | None:
    status, remaining, written, ready = storage().record_and_release(
        execution_id, node_run_id, attempt, graph.straight_children(node_id), recorded(attempt_log, outcome), now
    )
    if not written:
        return None
    node_events = [*(started_events or []), events.node_event(node_id, outcome.status)]
    if remaining <= 0 and status in ACTIVE_EXECUTION_STATUSES:
        # Cannot happen while the children are pending; an execution whose counters
        # disagree with its rows is ended rather than left running.
        with transaction.atomic():
            end_completed(execution_id, graph, now, node_events)
        return outcome
    publish_on_commit(
        [publish_for(run_id, graph.nodes[child_id], execution_id) for run_id, child_id in ready],
        (execution_id, node_events),
    )
    return outcome


def recorded(attempt_log: list[Any], outcome: Outcome) -> Recorded:
    return Recorded(outcome.status, outcome.output, outcome.error, [*attempt_log, *outcome.attempt_entries])


def _count_down_and_record(
    execution_id: Any,
    node_run_id: int,
    attempt: int,
    attempt_log: list[Any],
    outcome: Outcome,
    now: Any,
    on_write_error: Callable[[Exception], Outcome] | None,
) -> tuple[str, int, bool, Outcome]:
    """Counts the node out of its execution (locking the execution's row first) and
    writes its result, fenced by the attempt. A node with a database effect applies it in
    between, inside the same transaction; without one, PostgreSQL does both in one trip."""
    store = storage()
    if isinstance(outcome.output, DeferredWrite):
        status, remaining = store.count_down(execution_id)
        outcome = apply_deferred_write(outcome, on_write_error)
        written = store.record(node_run_id, attempt, recorded(attempt_log, outcome), now)
        return status, remaining, written, outcome
    found = store.count_down_and_record(execution_id, node_run_id, attempt, recorded(attempt_log, outcome), now)
    return (*found, outcome)
