"""Writes of workflows. A change of definition makes a new immutable version; name,
description and is_active change the workflow only."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework import serializers

from core.api import Conflict, NotFound, ValidationFailed
from workflows_app.calls import check_calls
from workflows_app.definition import parse_definition
from workflows_app.layout import layout_problems
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.selectors import EXPORT_FORMAT
from workflows_app.serializers import WorkflowInput

# Fields of an export (or of a GET body) that importing ignores.
_IMPORT_IGNORED = ("format", "version", "exported_at", "id", "created_at", "updated_at")
_IMPORT_FIELDS = ("name", "description", "is_active", "definition", "layout")


@transaction.atomic
def workflow_create(
    *,
    owner: Any,
    name: str,
    definition: dict,
    description: str = "",
    is_active: bool = True,
    layout: dict | None = None,
) -> Workflow:
    """Validates the definition and saves the workflow with its version 1."""
    parse_definition(definition)
    check_calls(owner=owner, definition=definition)
    workflow = Workflow.objects.create(
        owner=owner, name=name, description=description, is_active=is_active, layout=layout or {}
    )
    version = WorkflowVersion.objects.create(workflow=workflow, number=1, definition=definition, created_by=owner)
    workflow.current_version = version
    workflow.save(update_fields=["current_version", "updated_at"])
    return workflow


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    user: Any,
    expected_version: int | None = None,
    name: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    definition: dict | None = None,
    layout: dict | None = None,
) -> Workflow:
    """Applies the given changes (None = unchanged). With `expected_version`, refuses the
    change (409 version_conflict) unless it is still the current version number. A new
    definition makes a new version; a new layout does not (workflows_app/layout.py)."""
    locked = (
        Workflow.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .filter(pk=workflow.pk, archived_at__isnull=True)
        .first()
    )
    if locked is None:
        raise NotFound("Workflow not found.")
    current = locked.current_version
    current_number = current.number if current else 0
    if expected_version is not None and expected_version != current_number:
        raise Conflict(
            f"The workflow is at version {current_number}, not {expected_version}: "
            "reload it and apply your change again.",
            code="version_conflict",
            details={"current_version": current_number},
        )
    changed = []
    for field, value in (("name", name), ("description", description), ("is_active", is_active), ("layout", layout)):
        if value is not None and getattr(locked, field) != value:
            setattr(locked, field, value)
            changed.append(field)
    if definition is not None and (current is None or definition != current.definition):
        parse_definition(definition)
        check_calls(owner=locked.owner_id, definition=definition, workflow_id=locked.pk)
        number = (locked.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        locked.current_version = WorkflowVersion.objects.create(
            workflow=locked, number=number, definition=definition, created_by=user
        )
        changed.append("current_version")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


@transaction.atomic
def workflow_archive(*, workflow: Workflow) -> None:
    """Hides the workflow (404 from now on); its versions and executions are kept."""
    now = timezone.now()
    Workflow.objects.filter(pk=workflow.pk, archived_at__isnull=True).update(archived_at=now, updated_at=now)


def workflow_import(*, owner: Any, document: Any) -> Workflow:
    """Creates a new workflow (version 1) from an export document; runs nothing."""
    return workflow_create(owner=owner, **_import_fields(document))


def _import_fields(document: Any) -> dict:
    if not isinstance(document, dict):
        raise ValidationFailed(
            "The document must be a JSON object.", details={"non_field_errors": ["Expected an object."]}
        )
    problems: dict[str, list[str]] = {}
    for key in document:
        if key not in _IMPORT_FIELDS and key not in _IMPORT_IGNORED:
            problems[key] = ["Unknown field."]
    if document.get("format", EXPORT_FORMAT) != EXPORT_FORMAT:
        problems["format"] = [f"Only {EXPORT_FORMAT} documents can be imported."]
    name: Any = document.get("name")  # text, or the document is refused below
    if not isinstance(name, str) or not name.strip():
        problems["name"] = ["This field is required."]
    elif problem := _text_problem("name", name.strip()):
        problems["name"] = [problem]
    description = document.get("description", "")
    if not isinstance(description, str):
        problems["description"] = ["Must be text."]
    elif problem := _text_problem("description", description):
        problems["description"] = [problem]
    is_active = document.get("is_active", True)
    if not isinstance(is_active, bool):
        problems["is_active"] = ["Must be a boolean."]
    if not isinstance(document.get("definition"), dict):
        problems["definition"] = ["This field is required and must be an object with nodes and edges."]
    layout = document.get("layout") or {}
    if found := layout_problems(layout):
        problems["layout"] = found
    if problems:
        raise ValidationFailed("The document is not a workflow export.", details=problems)
    return {
        "name": name.strip(),
        "description": description,
        "is_active": is_active,
        "definition": document["definition"],
        "layout": layout,
    }


def _text_problem(field: str, text: str) -> str | None:
    """What create says of the same text (length, NUL, lone surrogate): its own field."""
    try:
        WorkflowInput().fields[field].run_validation(text)
    except serializers.ValidationError as exc:
        detail: Any = exc.detail  # a field's errors: a list
        return str(detail[0])
    return None
