"""The completion transaction: record a node's result, resolve its children's join
counters, decide ready or skipped exactly once, and finish the execution.

Every completion of one execution locks that execution's row first, so completions of
one execution are serialized while different executions proceed in parallel. The child
counters are still decremented with conditional updates and re-read (DESIGN §6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from executions_app import events
from executions_app.engine import announce, sql, sql_postgres
from executions_app.engine.output_check import check_output_size
from executions_app.engine.publish import Publish, publish_for, publish_on_commit
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionStatus, NodeRun, NodeRunStatus
from workflows_app.nodes.base import DeferredWrite


@dataclass
class Outcome:
    """What one attempt of a node produced."""

    status: str  # NodeRunStatus.COMPLETED or NodeRunStatus.FAILED
    output: Any = None
    error: dict | None = None
    continue_on_error: bool = False
    attempt_entries: list[dict] = field(default_factory=list)


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


def edge_taken(edge: Any, outcome: Outcome) -> bool:
    if outcome.status == NodeRunStatus.COMPLETED:
        if edge.branch is None:
            return True
        result = outcome.output.get("result") if isinstance(outcome.output, dict) else None
        return ("true" if result else "false") == edge.branch
    # Failed with on_error "continue": only unbranched edges are taken.
    return edge.branch is None


def finish_node(
    *,
    node_run_id: int,
    execution_id: Any,
    attempt: int,
    attempt_log: list,
    graph: Any,
    node_id: str,
    outcome: Outcome,
    on_write_error: Callable[[Exception], Outcome] | None = None,
    started_events: list[dict] | None = None,
) -> bool:
    """Records the outcome of attempt `attempt`. Returns False when the attempt lost its
    claim (a newer attempt owns the node) and nothing was written; a deferred write
    is then rolled back with the rest. `started_events` (the node's `running`, held back
    for an in-process node) go out first, with the rest."""
    now = timezone.now()
    if _straight_through(graph, node_id, outcome):
        return _finish_straight(
            node_run_id, execution_id, attempt, attempt_log, graph, node_id, outcome, now, started_events
        )
    with transaction.atomic():
        status, remaining, written, outcome = _count_down_and_record(
            execution_id, node_run_id, attempt, attempt_log, outcome, now, on_write_error
        )
        if not written:
            transaction.set_rollback(True)
            return False
        node_events = [*(started_events or []), events.node_event(node_id, outcome.status)]
        if status not in ACTIVE_EXECUTION_STATUSES:
            # Canceled or failed meanwhile: the result is kept, nothing more starts.
            events.emit_after_commit(execution_id, node_events)
        elif outcome.status == NodeRunStatus.FAILED and not outcome.continue_on_error:
            fail_execution(execution_id, node_id=node_id, error=outcome.error or {}, now=now, node_events=node_events)
        else:
            ready, skipped = resolve_children(execution_id, graph, node_id, outcome, now)
            node_events += [events.node_event(skipped_id, NodeRunStatus.SKIPPED) for skipped_id in skipped]
            remaining -= len(skipped)
            if remaining <= 0:
                finish_execution(execution_id, graph, now, node_events)
            else:
                if skipped:
                    Execution.objects.filter(id=execution_id).update(remaining_nodes=remaining)
                publish_on_commit(ready, (execution_id, node_events))
    return True


def _straight_through(graph: Any, node_id: str, outcome: Outcome) -> bool:
    """A completed node whose edges out are all unbranched (a chain step, a fan-out's root,
    a join's parent), with no database effect of its own, on PostgreSQL: its whole
    completion is one statement (sql_postgres.record_and_release)."""
    return (
        outcome.status == NodeRunStatus.COMPLETED
        and not isinstance(outcome.output, DeferredWrite)
        and connection.vendor == "postgresql"
        and bool(graph.straight_children(node_id))
    )


def _finish_straight(
    node_run_id: int,
    execution_id: Any,
    attempt: int,
    attempt_log: list,
    graph: Any,
    node_id: str,
    outcome: Outcome,
    now: Any,
    started_events: list[dict] | None,
) -> bool:
    status, remaining, written, ready = sql_postgres.record_and_release(
        execution_id, node_run_id, attempt, graph.straight_children(node_id), now=now, **_recorded(attempt_log, outcome)
    )
    if not written:
        return False
    node_events = [*(started_events or []), events.node_event(node_id, outcome.status)]
    if remaining <= 0 and status in ACTIVE_EXECUTION_STATUSES:
        # Cannot happen while the children are pending; an execution whose counters
        # disagree with its rows is finished rather than left running.
        with transaction.atomic():
            finish_execution(execution_id, graph, now, node_events)
        return True
    publish_on_commit(
        [publish_for(run_id, graph.nodes[child_id]) for run_id, child_id in ready], (execution_id, node_events)
    )
    return True


def _recorded(attempt_log: list, outcome: Outcome) -> dict:
    entries = [*attempt_log, *outcome.attempt_entries]
    return {"status": outcome.status, "output": outcome.output, "error": outcome.error, "attempt_log": entries}


def _count_down_and_record(
    execution_id: Any,
    node_run_id: int,
    attempt: int,
    attempt_log: list,
    outcome: Outcome,
    now: Any,
    on_write_error: Callable[[Exception], Outcome] | None,
) -> tuple[str, int, bool, Outcome]:
    """Counts the node out of its execution (locking the execution's row first) and
    writes its result, fenced by the attempt. A node with a database effect applies it in
    between, inside the same transaction; without one, PostgreSQL does both in one trip."""

    if not isinstance(outcome.output, DeferredWrite) and connection.vendor == "postgresql":
        recorded = _recorded(attempt_log, outcome)
        found = sql_postgres.count_down_and_record(execution_id, node_run_id, attempt, now=now, **recorded)
        return (*found, outcome)
    status, remaining = sql.count_down_remaining(execution_id)
    if isinstance(outcome.output, DeferredWrite):
        outcome = apply_deferred_write(outcome, on_write_error)
    written = sql.record_outcome(node_run_id, attempt, now=now, **_recorded(attempt_log, outcome))
    return status, remaining, written, outcome


def resolve_children(
    execution_id: Any, graph: Any, node_id: str, outcome: Outcome, now: Any
) -> tuple[list[Publish], list[str]]:
    """Decrements the children's counters; the transaction that brings a child to zero
    unresolved parents decides: ready (≥ 1 taken) or skipped, whose skip propagates."""
    ready: list[Publish] = []
    skipped: list[str] = []
    decided: set[str] = set()
    # Work list of (source node, outcome or None for a skipped source).
    work: list[tuple[str, Outcome | None]] = [(node_id, outcome)]
    while work:
        source, source_outcome = work.pop()
        resolved: Counter[str] = Counter()
        taken: Counter[str] = Counter()
        for edge in graph.children(source):
            resolved[edge.target] += 1
            if source_outcome is not None and edge_taken(edge, source_outcome):
                taken[edge.target] += 1
        if not resolved:
            continue
        # One conditional update per distinct (resolved, taken) pair: usually one or two.
        groups: dict[tuple[int, int], list[str]] = {}
        for target, count in resolved.items():
            groups.setdefault((count, taken[target]), []).append(target)
        decided_now = [
            child
            for (count, taken_count), targets in groups.items()
            for child in sql.resolve_edges(execution_id, targets, count, taken_count, now)
        ]
        to_skip: dict[int, str] = {}
        for run_id, child_id, is_ready in decided_now:
            if child_id in decided:
                continue
            decided.add(child_id)
            if is_ready:
                ready.append(publish_for(run_id, graph.nodes[child_id]))
            else:
                to_skip[run_id] = child_id
                work.append((child_id, None))
        if to_skip:
            NodeRun.objects.filter(id__in=list(to_skip), status=NodeRunStatus.PENDING).update(
                status=NodeRunStatus.SKIPPED, finished_at=now, ready_at=now
            )
            skipped += to_skip.values()
    return ready, skipped


def finish_execution(execution_id: Any, graph: Any, now: Any, node_events: list[dict]) -> None:
    if connection.vendor == "postgresql":
        row = sql_postgres.complete_execution(execution_id, graph.output_node_ids, now)
    else:
        outputs = dict(
            NodeRun.objects.filter(
                execution_id=execution_id, node_id__in=graph.output_node_ids, status=NodeRunStatus.COMPLETED
            ).values_list("node_id", "output")
        )
        Execution.objects.filter(id=execution_id).update(
            status=ExecutionStatus.COMPLETED, outputs=outputs, remaining_nodes=0, finished_at=now
        )
        row = None
    announce.execution_status_changed(execution_id, ExecutionStatus.COMPLETED, now, node_events, finished_row=row)


def fail_execution(
    execution_id: Any, *, node_id: str | None, error: dict, now: Any, node_events: list[dict] | None = None
) -> None:
    """Fails the execution (or cancels it, with status "canceled"): nodes that never
    started become canceled; running ones finish or reach their deadline, and their
    results are kept."""
    end_execution(
        execution_id, ExecutionStatus.FAILED, now, error={"node_id": node_id, **error}, node_events=node_events
    )


def end_execution(
    execution_id: Any, status: str, now: Any, *, error: dict | None = None, node_events: list[dict] | None = None
) -> bool:
    changed = Execution.objects.filter(id=execution_id, status__in=ACTIVE_EXECUTION_STATUSES).update(
        status=status, error=error, finished_at=now
    )
    if not changed:
        return False
    never_started = NodeRun.objects.filter(execution_id=execution_id, status=NodeRunStatus.PENDING)
    canceled = list(never_started.values_list("node_id", flat=True))
    never_started.update(status=NodeRunStatus.CANCELED, finished_at=now)
    node_events = [*(node_events or []), *(events.node_event(n, NodeRunStatus.CANCELED) for n in canceled)]
    announce.execution_status_changed(execution_id, status, now, node_events)
    return True
