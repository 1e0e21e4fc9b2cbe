from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from ai_providers.base import TASK_TYPES


class ProviderRoute(models.Model):
    """An admin's chain for a task type: it replaces the settings' default route, and a
    node's own `providers` list replaces it in turn."""

    task_type = models.CharField(max_length=32, unique=True, choices=[(t, t.replace("_", " ")) for t in TASK_TYPES])
    chain = models.JSONField(
        default=list,
        help_text='Providers to try in order, e.g. ["groq/llama-3.1-8b-instant", "gemini/gemini-2.5-flash"].',
    )
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task_type"]

    def __str__(self) -> str:
        return f"{self.task_type}: {' -> '.join(self.chain or [])}"

    def clean(self) -> None:
        from ai_providers.router import parse_chain

        try:
            parse_chain(self.chain)
        except ValueError as exc:
            raise ValidationError({"chain": str(exc)}) from None
