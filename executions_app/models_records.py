"""What nodes reach outside the engine with: a user's credentials (encrypted) and record
collections (the DATABASE node's documents)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

CREDENTIAL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class Credential(models.Model):
    """A named secret, referenced in templates as `{{ secrets.NAME }}`. The value is kept
    only as a Fernet token (executions_app/credentials.py) and never leaves as text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=64, validators=[RegexValidator(CREDENTIAL_NAME_PATTERN)])
    description = models.CharField(max_length=500, blank=True, default="")
    encrypted_value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="credential_unique_name")]

    def __str__(self) -> str:
        return self.name


class Record(models.Model):
    """One document of one of a user's record collections."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="records")
    collection = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["owner", "collection", "id"], name="record_owner_collection")]

    def __str__(self) -> str:
        return f"{self.collection}/{self.id}"
