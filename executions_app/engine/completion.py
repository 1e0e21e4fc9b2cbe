"""A node run's completion: record the attempt's outcome fenced by its attempt number,
count down the children's joins, end the execution when nothing remains, and publish what
became ready, after the commit. A node with one straight-through child completes in fewer
statements (_complete_straight)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions_app import events
from executions_app.engine.execution_end import end_completed, end_failed
from executions_app.engine.joins import resolve_children
from executions_app.engine.outcome import Outcome
from executions_app.engine.output_check import check_output_size
from executions_app.engine.publish import publish_for, publish_on_commit
from executions_app.engine.storage import Recorded, storage
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, NodeRunStatus
from workflows_app.graph import Graph
from workflows_app.nodes.base import DeferredWrite


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
