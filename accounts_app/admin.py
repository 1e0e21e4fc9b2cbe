from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts_app.models import ApiKey, User
from accounts_app.services import api_key_revoke, user_deactivate


@admin.register(User)
class SwitchboardUserAdmin(UserAdmin):
    # The email is unique, so the add form must ask for it (two blank emails would collide).
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")}),
    )
    actions = ["deactivate_users"]

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

    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = list_display
    readonly_fields = list_display
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
