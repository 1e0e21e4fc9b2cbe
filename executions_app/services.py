"""Writes on executions: create (with idempotency), create a child (SUBWORKFLOW, MAP), cancel."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.api import Conflict, ValidationFailed
from executions_app.engine import notify
from executions_app.engine.errors import NodeFailure
from executions_app.engine.execution_end import end_execution
from executions_app.engine.publish import publish_for
from executions_app.engine.storage import storage
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionLog, ExecutionStatus
from workflows_app.definition import validate_inputs
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.selectors import graph_for_version, workflow_to_run

LIMITS = settings.SWITCHBOARD
_idempotency_key_max_length = Execution._meta.get_field("idempotency_key").max_length
assert _idempotency_key_max_length is not None, "idempotency_key is a CharField with a max_length"
IDEMPOTENCY_KEY_MAX_CHARS: int = _idempotency_key_max_length


def request_fingerprint(workflow_id: Any, inputs: Any) -> str:
    canonical = json.dumps({"workflow_id": str(workflow_id), "inputs": inputs}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_idempotency_key(key: str) -> None:
    """ValidationFailed (400) for a key the column cannot hold."""
    if len(key) > IDEMPOTENCY_KEY_MAX_CHARS or "\x00" in key:
        raise ValidationFailed(
            f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX_CHARS} characters, without NUL characters.",
            details={"Idempotency-Key": ["Not a usable idempotency key."]},
        )


def _idempotent_match(user: Any, key: str, fingerprint: str) -> Execution | None:
    """The execution created earlier under this key, if the key is still kept (24 h).
    The same key with a different body is a conflict."""
    existing = Execution.objects.filter(owner=user, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.created_at < timezone.now() - timedelta(seconds=LIMITS.idempotency_ttl_s):
        Execution.objects.filter(id=existing.id).update(idempotency_key=None)  # expired: free the key
        return None
    if existing.request_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
            details={"execution_id": str(existing.id)},
        )
    return existing


def execution_create(
    *,
    user: Any,
    workflow_id: Any,
    inputs: dict,
    idempotency_key: str | None = None,
    trigger: str = "api",
    workflow: Any = None,
    key_is_new: bool = False,
) -> tuple[Execution, bool]:
    """Validates the inputs against the pinned version and queues the root nodes.
    Returns (execution, created); an idempotent repeat returns the first execution.
    `trigger` says what started it (Execution.trigger). For callers that create many
    (the schedule clock, webhooks): `workflow`, the user's workflow already read, saves
    reading it again; `key_is_new` says the caller has claimed the key already, so it is
    not looked up first (a repeat is still caught, by the key's unique constraint)."""
    fingerprint = request_fingerprint(workflow_id, inputs)
    if idempotency_key:
        _check_idempotency_key(idempotency_key)
        existing = None if key_is_new else _idempotent_match(user, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False
    if workflow is None or workflow.archived_at is not None or workflow.owner_id != user.pk:
        workflow = workflow_to_run(user, workflow_id)  # NotFound for an archived one, as for any caller
    if not workflow.is_active:
        raise Conflict("This workflow is inactive and cannot be run.", code="workflow_inactive")
    graph = graph_for_version(workflow.current_version_id)
    validated = validate_inputs(graph, inputs)
    try:
        execution = _create_rows(user.pk, workflow, graph, validated, idempotency_key, fingerprint, trigger)
    except IntegrityError:
        if not idempotency_key:
            raise
        # Another request with the same key won the race: answer with its execution.
        existing = _idempotent_match(user, idempotency_key, fingerprint)
        if existing is None:
            raise
        return existing, False
    return execution, True


@dataclass(frozen=True)
class ChildOf:
    """Where a child execution hangs: its parent, the parent's node that starts it, the
    item's index (0 for a SUBWORKFLOW), the parent's depth and deadline."""

    execution_id: Any
    node_id: str
    index: int
    depth: int
    deadline_at: datetime | None


def _create_rows(
    owner_id: Any,
    workflow: Any,
    graph: Any,
    inputs: dict,
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


def _existing_child(parent: ChildOf) -> Any:
    return (
        Execution.objects.filter(
            parent_id=parent.execution_id, parent_node_id=parent.node_id, parent_index=parent.index
        )
        .values_list("id", flat=True)
        .first()
    )


def execution_create_child(*, owner_id: Any, parent: ChildOf, workflow_id: Any, version: int | str, inputs: Any) -> Any:
    """Starts a child execution of `parent`'s node (trigger `parent:<id>`) and returns its
    id; the child this node and index started before, if any, so that a parent node run
    again after a crash never starts a second one. Raises NodeFailure, with a code the
    node's error shows, when the target cannot run: gone (archived, or not the owner's),
    switched off, no such version, inputs that do not fit its INPUT fields."""
    existing = _existing_child(parent)
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
            execution = _create_rows(
                owner_id, workflow, graph, validated, None, "", trigger, version_id=version_id, parent=parent
            )
    except IntegrityError:
        existing = _existing_child(parent)  # another run of the same node got there first
        if existing is None:
            raise
        return existing
    return execution.id


def execution_cancel(*, execution: Execution) -> Execution:
    """No new node starts; running nodes finish or reach their deadline; nodes that never
    started become canceled. Canceling a finished execution changes nothing."""
    with transaction.atomic():
        Execution.objects.select_for_update(no_key=True).filter(id=execution.id).values_list("id").first()
        if end_execution(execution.id, ExecutionStatus.CANCELED, timezone.now()):
            ExecutionLog.objects.create(execution_id=execution.id, level="info", message="Canceled by the user.")
    execution.refresh_from_db()
    return execution
