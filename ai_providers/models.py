from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from ai_providers.base import TASK_TYPES
from ai_providers.chains import parse_chain
from ai_providers.registry import provider_names


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
        try:
            parse_chain(self.chain)
        except ValueError as exc:
            raise ValidationError({"chain": str(exc)}) from None


def provider_choices() -> list[tuple[str, str]]:
    """The registry's provider names (a callable, so a new adapter needs no migration)."""
    return [(name, name) for name in provider_names()]


class ModelPrice(models.Model):
    """An admin's price for one provider/model; it replaces settings.AI_PROVIDERS["PRICES"]."""

    provider = models.CharField(max_length=32, choices=provider_choices)
    model = models.CharField(max_length=200, help_text='The model id as routes name it, e.g. "gemini-2.5-flash".')
    input_usd_per_million = models.DecimalField(
        "input USD / 1M tokens", max_digits=12, decimal_places=6, validators=[MinValueValidator(0)]
    )
    output_usd_per_million = models.DecimalField(
        "output USD / 1M tokens", max_digits=12, decimal_places=6, validators=[MinValueValidator(0)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "model"]
        constraints = [models.UniqueConstraint(fields=["provider", "model"], name="ai_model_price_unique")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


class ProviderQuota(models.Model):
    """An admin's quotas for one provider; when enabled they replace all four settings quotas."""

    provider = models.CharField(max_length=32, unique=True, choices=provider_choices)
    rpm = models.PositiveIntegerField("requests / minute", default=0, help_text="0 = unlimited")
    tpm = models.PositiveIntegerField("tokens / minute", default=0, help_text="0 = unlimited")
    rpd = models.PositiveIntegerField("requests / day", default=0, help_text="0 = unlimited")
    tpd = models.PositiveIntegerField("tokens / day", default=0, help_text="0 = unlimited")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]

    def __str__(self) -> str:
        return f"{self.provider} quotas"
