"""Request and response shapes of the credentials API: the value goes in, never out."""

from __future__ import annotations

from rest_framework import serializers

from core.api import StrictSerializer
from credentials_app.models import CREDENTIAL_NAME_PATTERN, Credential

MAX_VALUE_CHARS = 10_000


class TextOnlyField(serializers.CharField):
    """A string as sent: a number or a boolean is refused, not turned into text."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CredentialInput(StrictSerializer):
    """Body of POST. Read-only fields of the output are accepted and ignored, so a GET
    body can be PUT back (CredentialUpdateInput)."""

    name = serializers.RegexField(
        CREDENTIAL_NAME_PATTERN,
        max_length=64,
        error_messages={"invalid": "Names start with a letter or _ and hold letters, digits and _ (at most 64)."},
    )
    # Kept exactly as sent: a secret's spaces may matter.
    value = TextOnlyField(write_only=True, max_length=MAX_VALUE_CHARS, trim_whitespace=False)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    id = serializers.UUIDField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class CredentialUpdateInput(CredentialInput):
    """Body of PUT and PATCH: without `value`, the stored one is kept."""

    value = TextOnlyField(write_only=True, required=False, max_length=MAX_VALUE_CHARS, trim_whitespace=False)


class CredentialOutput(serializers.Serializer[Credential]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
