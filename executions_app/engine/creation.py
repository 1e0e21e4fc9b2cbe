"""Creating an execution's rows: the execution and its node runs written together, its
first nodes published after its `queued` event; and a child execution (SUBWORKFLOW, MAP)
under a parent's node, found again rather than created twice. The API's create (with
idempotency) is executions_app/services.py; the child runner is engine/children.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.api import ValidationFailed
from executions_app.engine import notify
from executions_app.engine.errors import NodeFailure
from executions_app.engine.publish import publish_for
from executions_app.engine.storage import storage
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionStatus
from workflows_app.definition import validate_inputs
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.selectors import graph_for_version

LIMITS = settings.SWITCHBOARD


@dataclass(frozen=True)
class ChildOf:
    """Where a child execution hangs: its parent, the parent's node that starts it, the
    item's index (0 for a SUBWORKFLOW), the parent's depth and deadline."""

    execution_id: Any
    node_id: str
    index: int
    depth: int
    deadline_at: datetime | None


def create_rows(
    owner_id: Any,
    workflow: Any,
    graph: Any,
    inputs: dict[str, Any],
    idempotency_key: str | None,
    fingerprint: str,
    trigger: str,
    *,
    version_id: Any = None,
    parent: ChildOf | None = None,
) -> Execution:
    """The execution and its node runs, written together, then made known (its first nodes
    published after its `queued` event: a worker's `running` must never precede it).
    A child runs the version it is given, one level deeper, never past its parent's deadline."""
    now = timezone.now()
    deadline_at = now + timedelta(seconds=graph.timeout_s or LIMITS.execution_timeout_s)
    execution = Execution(
        owner_id=owner_id,
        workflow=workflow,
        version_id=version_id or workflow.current_version_id,
        inputs=inputs,
        remaining_nodes=len(graph.nodes),
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        trigger=trigger,
        deadline_at=deadline_at,
    )
    if parent is not None:
        execution.parent_id = parent.execution_id
        execution.parent_node_id = parent.node_id
        execution.parent_index = parent.index
        execution.depth = parent.depth + 1
        if parent.deadline_at is not None:
            execution.deadline_at = min(deadline_at, parent.deadline_at)
    run_ids = storage().create_execution(execution, graph, now)
    first = [
        publish_for(run_ids[node_id], spec, execution.id)
        for node_id, spec in graph.nodes.items()
        if not graph.parents(node_id)
    ]
    notify.execution_status_changed(execution.id, ExecutionStatus.QUEUED, now, publish=first)
    return execution


def existing_child(parent: ChildOf) -> Any:
    return (
        Execution.objects.filter(
            parent_id=parent.execution_id, parent_node_id=parent.node_id, parent_index=parent.index
        )
        .values_list("id", flat=True)
        .first()
    )


def create_child(*, owner_id: Any, parent: ChildOf, workflow_id: Any, version: int | str, inputs: Any) -> Any:
    """Starts a child execution of `parent`'s node (trigger `parent:<id>`) and returns its
    id; the child this node and index started before, if any, so that a parent node run
    again after a crash never starts a second one. Raises NodeFailure, with a code the
    node's error shows, when the target cannot run: gone (archived, or not the owner's),
    switched off, no such version, inputs that do not fit its INPUT fields."""
    existing = existing_child(parent)
    if existing is not None:
        return existing
    workflow = (
        Workflow.objects.filter(owner_id=owner_id, archived_at__isnull=True, pk=workflow_id)
        .only("id", "owner_id", "name", "is_active", "current_version_id")
        .first()
    )
    if workflow is None:
        raise NodeFailure("workflow_not_found", f"The workflow {workflow_id} does not exist (or was archived).")
    if not workflow.is_active:
        raise NodeFailure("workflow_inactive", f"The workflow {workflow_id} ({workflow.name}) is inactive.")
    version_id = workflow.current_version_id
    if version != "current":
        version_id = (
            WorkflowVersion.objects.filter(workflow=workflow, number=version).values_list("id", flat=True).first()
        )
        if version_id is None:
            raise NodeFailure("version_not_found", f"The workflow {workflow_id} has no version {version}.")
    graph = graph_for_version(version_id)
    try:
        validated = validate_inputs(graph, inputs)
    except ValidationFailed as exc:
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in exc.details or [])
        raise NodeFailure(
            "invalid_child_inputs", f"The inputs do not fit the workflow's INPUT fields: {problems}"
        ) from None
    trigger = f"parent:{parent.execution_id}"
    try:
        with transaction.atomic():
            # Locked as an ending parent locks it: a child is never created under an ended one.
            status = Execution.objects.select_for_update(no_key=True).filter(id=parent.execution_id)
            if status.values_list("status", flat=True).first() not in ACTIVE_EXECUTION_STATUSES:
                raise NodeFailure("parent_ended", "The execution ended before the child could start.")
            execution = create_rows(
                owner_id, workflow, graph, validated, None, "", trigger, version_id=version_id, parent=parent
            )
    except IntegrityError:
        existing = existing_child(parent)  # another run of the same node got there first
        if existing is None:
            raise
        return existing
    return execution.id
