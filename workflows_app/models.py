from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

# What the API accepts for a description; the column itself is unbounded text.
DESCRIPTION_MAX_LENGTH = 10_000


class Workflow(models.Model):
    """A user's workflow. Its definition lives in immutable versions; `current_version`
    points at the one new executions run. DELETE archives it (archived_at)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    current_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the studio draws each node ({node_id: {x, y}}, workflows_app/layout.py): saved
    # without a new version, never read by the engine.
    layout = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "name"], name="workflow_owner_name"),
            models.Index(fields=["owner", "archived_at"], name="workflow_owner_archived"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """One saved definition of a workflow, numbered 1, 2, 3… Never changed once written:
    executions pin it, and caches keep it by id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["workflow", "number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        # Immutability is an invariant of the row, not business logic: refuse any rewrite.
        if not self._state.adding:
            raise ValueError("A workflow version is immutable; save a new version instead.")
        super().save(*args, **kwargs)
