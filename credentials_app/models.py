"""A user's credentials: named secrets, encrypted at rest (credentials_app/services.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

CREDENTIAL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class Credential(models.Model):
    """A named secret, referenced in templates as `{{ secrets.NAME }}`. The value is kept
    only as a Fernet token (credentials_app/services.py) and never leaves as text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=64, validators=[RegexValidator(CREDENTIAL_NAME_PATTERN)])
    description = models.CharField(max_length=500, blank=True, default="")
    encrypted_value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "executions_app_credential"  # the table it had before the app of its own
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="credential_unique_name")]

    def __str__(self) -> str:
        return self.name
