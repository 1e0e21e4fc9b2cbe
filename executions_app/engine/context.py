"""The NodeContext a node runs with: inputs, upstream outputs, execution and workflow."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from credentials_app.services import secrets_for
from executions_app import events
from executions_app.engine.ports import node_ports
from executions_app.engine.storage import ClaimedRun, storage
from workflows_app.definition import compiled_parts
from workflows_app.graph import Graph
from workflows_app.nodes.base import NodeContext

# Versions are immutable, so what a node's config reads is worked out once per process.
_READS: dict[tuple[Any, str], tuple[str, ...]] = {}
_MENTIONS_WORKFLOW: dict[tuple[Any, str], bool] = {}
_WORKFLOW_WORD = re.compile(r"\bworkflow\b")


def upstream_reads(graph: Graph, version_id: Any, node_id: str) -> tuple[str, ...]:
    """The `nodes.<id>` this node's templates and expressions name. Validation allows a
    node to be named only literally and only when it is upstream, so this is all the
    context a run needs: a node that reads no other node costs no query."""
    key = (version_id, node_id)
    found = _READS.get(key)
    if found is None:
        config = graph.nodes[node_id].node.config
        found = tuple(sorted(frozenset().union(*(part.node_refs for _, part in compiled_parts(config, ())))))
        if len(_READS) > 50_000:
            _READS.clear()
        _READS[key] = found
    return found


def mentions_workflow(graph: Graph, version_id: Any, node_id: str) -> bool:
    """Whether one of the node's templates or expressions names `workflow` (it can then
    read its name and version). A plain word match: a false positive costs one query,
    never a wrong value."""
    key = (version_id, node_id)
    found = _MENTIONS_WORKFLOW.get(key)
    if found is None:
        config = graph.nodes[node_id].node.config
        found = any(_WORKFLOW_WORD.search(part.source) for _, part in compiled_parts(config, ()))
        if len(_MENTIONS_WORKFLOW) > 50_000:
            _MENTIONS_WORKFLOW.clear()
        _MENTIONS_WORKFLOW[key] = found
    return found


class HeldEvents:
    """A node run's events held back, to go out in a Redis round trip that is made anyway:
    the node's own (add_to, NodeContext.announce_start) or the engine's with the result."""

    def __init__(self, execution_id: Any, held: list[dict[str, Any]]):
        self.execution_id, self.held, self.sent = execution_id, held, False

    def add_to(self, pipe: Any) -> None:
        # Counted as sent once queued: events are best effort (the database is the truth),
        # and a pipeline that fails here would fail the engine's own attempt as well.
        events.queue_events(pipe, self.execution_id, self.held)
        self.sent = True

    def unsent(self) -> list[dict[str, Any]]:
        return [] if self.sent else self.held


def build_context(
    run: ClaimedRun,
    graph: Graph,
    *,
    deadline: float,
    node_run_id: int | None = None,
    announce_start: Callable[[Any], None] | None = None,
) -> NodeContext:
    version_id = run.version_id
    secret_refs = graph.nodes[run.node_id].secret_refs
    # Only what the node references, decrypted for this run; a missing one is reported by the node.
    secrets = secrets_for(owner_id=run.owner_id, names=secret_refs) if secret_refs else {}
    workflow: dict[str, Any] = {"id": str(run.workflow_id), "name": None, "version": None}
    if mentions_workflow(graph, version_id, run.node_id):
        workflow["name"], workflow["version"] = storage().workflow_identity(run.workflow_id, version_id)
    return NodeContext(
        inputs=run.inputs,
        nodes=storage().upstream_outputs(run.execution_id, upstream_reads(graph, version_id, run.node_id)),
        execution_id=str(run.execution_id),
        workflow=workflow,
        deadline=deadline,
        owner_id=run.owner_id,
        secrets=secrets,
        announce_start=announce_start,
        ports=node_ports(),
        node_id=run.node_id,
        node_run_id=node_run_id,
        started_at=run.started_at or timezone.now(),
        state=run.state,
        depth=run.depth,
        execution_deadline_at=run.deadline_at,
        wait_limit_at=wait_limit_at(run, graph),
    )


def wait_limit_at(run: ClaimedRun, graph: Graph) -> datetime | None:
    """The latest a node that suspends may still be waiting: its timeout_s (or the default
    node timeout) counted from its first run once it has suspended (from this run before
    that: a run retried after its worker died starts its wait afresh), and never past the
    execution's deadline."""
    spec = graph.nodes[run.node_id]
    if not spec.node.suspends:
        return None
    started = run.started_at if run.resumes and run.started_at else timezone.now()
    limit = started + timedelta(seconds=spec.timeout_s or settings.SWITCHBOARD.default_node_timeout_s)
    return min(limit, run.deadline_at) if run.deadline_at is not None else limit
