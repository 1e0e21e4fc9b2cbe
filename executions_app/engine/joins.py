"""Join counters: when a node completes, each child counts the edge resolved (and taken,
or not); the one update that brings a child to zero unresolved parents decides it: ready
when any edge was taken, else skipped, and a skip propagates. Runs inside the
completion's transaction (node_run.complete_node)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from executions_app.engine.outcome import Outcome
from executions_app.engine.publish import Publish, publish_for
from executions_app.engine.storage import storage
from executions_app.models import NodeRun, NodeRunStatus
from workflows_app.graph import EdgeSpec, Graph


def edge_taken(edge: EdgeSpec, outcome: Outcome) -> bool:
    if outcome.status == NodeRunStatus.COMPLETED:
        if edge.branch is None:
            return True
        result = outcome.output.get("result") if isinstance(outcome.output, dict) else None
        return ("true" if result else "false") == edge.branch
    # Failed with on_error "continue": only unbranched edges are taken.
    return edge.branch is None


def resolve_children(
    execution_id: Any, graph: Graph, node_id: str, outcome: Outcome, now: Any
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
            for child in storage().resolve_edges(execution_id, targets, count, taken_count, now)
        ]
        to_skip: dict[int, str] = {}
        for run_id, child_id, is_ready in decided_now:
            if child_id in decided:
                continue
            decided.add(child_id)
            if is_ready:
                ready.append(publish_for(run_id, graph.nodes[child_id], execution_id))
            else:
                to_skip[run_id] = child_id
                work.append((child_id, None))
        if to_skip:
            NodeRun.objects.filter(id__in=list(to_skip), status=NodeRunStatus.PENDING).update(
                status=NodeRunStatus.SKIPPED, finished_at=now, ready_at=now
            )
            skipped += to_skip.values()
    return ready, skipped
