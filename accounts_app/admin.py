from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts_app.models import ApiKey, User
from accounts_app.services import api_key_revoke, user_deactivate

# A tuple, so that it can be list_display, fields and readonly_fields (typed apart in django-stubs).
API_KEY_FIELDS = ("name", "prefix", "user", "created_at", "last_used_at", "expires_at", "revoked_at")


@admin.register(User)
class SwitchboardUserAdmin(UserAdmin):
    # The email is unique, so the add form must ask for it (two blank emails would collide).
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")}),
    )
    actions = ["deactivate_users"]
    # Without these limits a staff member allowed to change users could make themselves a
    # superuser, or set another user's password and sign in as them (and so use their
    # secrets): both are a superuser's to do.
    SUPERUSER_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not request.user.is_superuser:
            return [*fields, *self.SUPERUSER_FIELDS]
        return fields

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        if not request.user.is_superuser and str(id) != str(request.user.pk):
            raise PermissionDenied("Only a superuser sets another user's password.")
        return super().user_change_password(request, id, form_url)

    @admin.action(
        description="Deactivate selected users (their tokens and API keys stop working)", permissions=["change"]
    )
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = [user for user in queryset if user.is_active]
        # Only a superuser locks out a superuser (a staff account must not lock out its admins).
        spared = [user for user in users if user.is_superuser and not request.user.is_superuser]
        for user in users:
            if user not in spared:
                user_deactivate(user=user)
        self.message_user(request, f"Deactivated {len(users) - len(spared)} user(s).", messages.SUCCESS)
        if spared:
            names = ", ".join(user.username for user in spared)
            self.message_user(request, f"Only a superuser can deactivate a superuser: {names}.", messages.WARNING)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are created by their owners through the API (the secret is shown to
    them once); an administrator can only revoke. The secret's hash is never displayed."""

    list_display = API_KEY_FIELDS
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = API_KEY_FIELDS
    readonly_fields = API_KEY_FIELDS
    actions = ["revoke_keys"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoked keys stay as a record of what existed

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts_app.change_apikey")

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = [api_key for api_key in queryset if not api_key.is_revoked]
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} API key(s).", messages.SUCCESS)
