"""Reads of API keys (the authenticated user's cached lookup is in user_cache.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts_app.models import ApiKey, User
from core.api import NotFound


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")


def api_key_get(*, user: User, api_key_id: int) -> ApiKey:
    """The caller's key; another user's key is not found (404), never forbidden."""
    api_key = ApiKey.objects.filter(user=user, pk=api_key_id).first()
    if api_key is None:
        raise NotFound("No such API key.")
    return api_key
