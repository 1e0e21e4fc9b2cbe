"""The authenticated user, cached in Redis for settings.CACHE_TTL_USER (DESIGN §8).

Imported by the authentication classes, which DRF loads while rest_framework.views is
still importing: this module must not import config.api (nor anything that does).
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from accounts_app.models import User
from config.resilient_cache import cache_delete, cache_get, cache_set

# The password hash stays out of Redis: the cached user is rebuilt with `password`
# deferred, so reading it loads it from the database and save() never writes it back.
_CACHED_FIELDS = [f.attname for f in User._meta.concrete_fields if f.attname != "password"]


def user_cache_key(user_id: object) -> str:
    return f"accounts:user:{user_id}"


def user_get_for_authentication(*, user_id: object) -> User | None:
    """The user a token names, from the cache or else the database (then cached)."""
    key = user_cache_key(user_id)
    cached = cache_get(key)
    if isinstance(cached, dict) and set(cached) == set(_CACHED_FIELDS):
        return User.from_db(DEFAULT_DB_ALIAS, _CACHED_FIELDS, [cached[name] for name in _CACHED_FIELDS])
    try:
        user = User.objects.filter(pk=user_id).first()
    except (TypeError, ValueError):  # a signed token with a user id of the wrong type
        return None
    if user is not None:
        cache_set(key, {name: getattr(user, name) for name in _CACHED_FIELDS}, settings.CACHE_TTL_USER)
    return user


def user_cache_forget(*, user_id: object) -> None:
    cache_delete(user_cache_key(user_id))
