"""Reads of workflows and versions. Versions are immutable, so they are cached by id
(30 min) and their parsed Graph is kept in process; only the pointer to a workflow's
current version changes, and the services drop it after every commit that moves it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from core.api import NotFound
from core.resilient_cache import cache_get, cache_set
from workflows_app.definition import Graph, parse_definition
from workflows_app.models import Workflow, WorkflowVersion

EXPORT_FORMAT = "switchboard.workflow/v1"


def version_key(version_id: Any) -> str:
    return f"workflows:version:{version_id}"


def workflow_list(*, user: Any) -> QuerySet[Workflow]:
    """The user's workflows that are not archived, with their current version."""
    return Workflow.objects.filter(owner=user, archived_at__isnull=True).select_related("current_version")


def workflow_get(user: Any, workflow_id: Any) -> Workflow:
    """One of the user's workflows; NotFound for another user's, an archived or no workflow."""
    try:
        return workflow_list(user=user).get(pk=workflow_id)
    except (Workflow.DoesNotExist, ValueError, ValidationError):
        raise NotFound("Workflow not found.") from None


def workflow_to_run(user: Any, workflow_id: Any) -> Workflow:
    """workflow_get for starting an execution: only the columns a run needs, without the
    current version's definition (the run takes its Graph from the process cache)."""
    try:
        return (
            Workflow.objects.filter(owner=user, archived_at__isnull=True)
            .only("id", "owner_id", "name", "is_active", "current_version_id")
            .get(pk=workflow_id)
        )
    except (Workflow.DoesNotExist, ValueError, ValidationError):
        raise NotFound("Workflow not found.") from None


def workflow_owner(workflow_id: Any) -> Any | None:
    """The owner of a workflow that is not archived, whoever asks; None when there is no
    such workflow. For a superuser's CLI run of another user's workflow, as its owner."""
    try:
        workflow = Workflow.objects.filter(archived_at__isnull=True).select_related("owner").get(pk=workflow_id)
    except (Workflow.DoesNotExist, ValueError, ValidationError):
        return None
    return workflow.owner


def version_list(*, user: Any, workflow_id: Any) -> QuerySet[WorkflowVersion]:
    """The history of one of the user's workflows, newest first (definitions not loaded)."""
    workflow = workflow_get(user, workflow_id)
    return WorkflowVersion.objects.filter(workflow=workflow).only("id", "number", "created_at").order_by("-number")


def version_for_number(*, user: Any, workflow_id: Any, number: int) -> WorkflowVersion:
    workflow = workflow_get(user, workflow_id)
    version = WorkflowVersion.objects.filter(workflow=workflow, number=number).first()
    if version is None:
        raise NotFound(f"The workflow has no version {number}.")
    return version


def version_get(version_id: Any) -> WorkflowVersion:
    """A version by id: from the cache, else the database (then cached)."""
    key = version_key(version_id)
    version = cache_get(key)
    if version is None:
        try:
            version = WorkflowVersion.objects.get(pk=version_id)
        except (WorkflowVersion.DoesNotExist, ValueError, ValidationError):
            raise NotFound("Workflow version not found.") from None
        cache_set(key, version, settings.CACHE_TTL_WORKFLOW)
    return version


@lru_cache(maxsize=512)
def _graph(version_id: str) -> Graph:
    return parse_definition(version_get(version_id).definition, stored=True)


def graph_for_version(version_id: Any) -> Graph:
    """The parsed Graph of a version, kept in this process (versions never change)."""
    return _graph(str(version_id))


def workflow_export_document(workflow: Workflow) -> dict:
    """A JSON document that workflow_import (and POST /api/workflows) accepts."""
    version = workflow.current_version
    return {
        "format": EXPORT_FORMAT,
        "name": workflow.name,
        "description": workflow.description,
        "is_active": workflow.is_active,
        "version": version.number if version else None,
        "exported_at": timezone.now().isoformat(),
        "definition": version.definition if version else None,
        "layout": workflow.layout,
    }
