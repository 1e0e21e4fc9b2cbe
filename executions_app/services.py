"""Writes on executions: create (with idempotency), cancel. Children (SUBWORKFLOW, MAP)
are created by the engine (engine/creation.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.api import Conflict, ValidationFailed
from executions_app.engine.creation import create_rows
from executions_app.engine.execution_end import end_execution
from executions_app.models import Execution, ExecutionLog, ExecutionStatus
from workflows_app.definition import validate_inputs
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
        execution = create_rows(user.pk, workflow, graph, validated, idempotency_key, fingerprint, trigger)
    except IntegrityError:
        if not idempotency_key:
            raise
        # Another request with the same key won the race: answer with its execution.
        existing = _idempotent_match(user, idempotency_key, fingerprint)
        if existing is None:
            raise
        return existing, False
    return execution, True


def execution_cancel(*, execution: Execution) -> Execution:
    """No new node starts; running nodes finish or reach their deadline; nodes that never
    started become canceled. Canceling a finished execution changes nothing."""
    with transaction.atomic():
        Execution.objects.select_for_update(no_key=True).filter(id=execution.id).values_list("id").first()
        if end_execution(execution.id, ExecutionStatus.CANCELED, timezone.now()):
            ExecutionLog.objects.create(execution_id=execution.id, level="info", message="Canceled by the user.")
    execution.refresh_from_db()
    return execution
