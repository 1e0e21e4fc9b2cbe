"""Input and output shapes of the accounts API."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers

from accounts_app.models import ApiKey, User
from core.api import StrictSerializer


class RegisterInput(StrictSerializer):
    """A new account (when registration is open)."""

    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(max_length=254)
    # Capped so a megabyte "password" cannot make the hasher burn CPU.
    password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)


class LoginInput(StrictSerializer):
    """Credentials exchanged for an access and a refresh token."""

    username = serializers.CharField(max_length=254, help_text="The username, or the account's email.")
    password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)


class RefreshInput(StrictSerializer):
    """A refresh token exchanged for a new access token."""

    refresh = serializers.CharField(max_length=4096)


class PasswordChangeInput(StrictSerializer):
    """The current password and the new one; tokens issued before stop working."""

    current_password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)
    new_password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)
    revoke_api_keys = serializers.BooleanField(
        default=False,
        help_text="Also revoke every API key of the account (a compromised account: sign out everything).",
    )


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "date_joined"]
        read_only_fields = fields


class ApiKeyCreateInput(StrictSerializer):
    """A new API key: its name, and the days it lives (every key expires)."""

    name = serializers.CharField(max_length=100)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # The longest lifetime is a setting, read whenever the serializer is made: per
        # request, and by the schema, which documents it as the maximum.
        fields["expires_in_days"] = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=settings.API_KEY_MAX_DAYS,
            error_messages={"max_value": "Keys expire within {max_value} days at most."},
            help_text="Days until the key stops working; settings.API_KEY_DEFAULT_DAYS when left out. "
            "Every key expires: null is refused.",
        )
        return fields


class ApiKeyOutput(serializers.ModelSerializer):
    revoked = serializers.BooleanField(source="is_revoked", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked"]
        read_only_fields = fields


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.SerializerMethodField(help_text="The full key `<prefix>.<secret>`; shown only in this answer.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]
        read_only_fields = fields

    def get_key(self, api_key: ApiKey) -> str:
        return self.context["key"]
