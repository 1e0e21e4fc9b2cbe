"""The authenticated user, cached in Redis for settings.CACHE_TTL_USER (docs/architecture.md, Caching).

Each user has a generation token beside the cached entry; an entry counts only while its
token is the current one, and every change to the user replaces the token after the
commit. A request that read the row before a change committed therefore cannot make its
stale copy current by writing it after the invalidation: it carries the old token.

Imported by the authentication classes, which DRF loads while rest_framework.views is
still importing: this module must not import core.api (nor anything that does).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from accounts_app.models import User
from core.resilient_cache import cache_call, cache_delete, cache_get, cache_set

# The password hash stays out of Redis: the cached user is rebuilt with `password`
# deferred, so reading it loads it from the database and save() never writes it back.
_CACHED_FIELDS = [f.attname for f in User._meta.concrete_fields if f.attname != "password"]
# Stored in the entry beside the fields: the generation it was read under.
GENERATION_FIELD = "_generation"


def user_cache_key(user_id: object) -> str:
    return f"accounts:user:{user_id}"


def user_generation_key(user_id: object) -> str:
    return f"accounts:user:{user_id}:generation"


def _generation_ttl() -> int:
    # Outlives the entries it vouches for; when it expires a new token is drawn, which
    # only turns the remaining entries into misses.
    return 2 * settings.CACHE_TTL_USER


def user_get_for_authentication(*, user_id: Any) -> User | None:
    """The user a token names, from the cache or else the database (then cached)."""
    user, generation = cached_user(user_id)
    if user is not None:
        return user
    try:
        user = User.objects.filter(pk=user_id).first()
    except (TypeError, ValueError):  # a signed token with a user id of the wrong type
        return None
    if user is not None:
        remember_user(user, generation)
    return user


def cached_user(user_id: object) -> tuple[User | None, str | None]:
    """(the cached user or None, the current generation to cache a database read under).
    The generation must be read before the database is: that is what fences a stale row.
    It is None while the cache is unavailable, and then nothing is cached."""
    key, generation_key = user_cache_key(user_id), user_generation_key(user_id)
    found: dict[str, Any] = cache_call(lambda c: c.get_many([key, generation_key]), default={}, what="get")
    generation = found.get(generation_key)
    if generation is None:
        generation = _start_generation(generation_key)
    cached = found.get(key)
    if (
        generation is not None
        and isinstance(cached, dict)
        and cached.get(GENERATION_FIELD) == generation
        and set(cached) == {*_CACHED_FIELDS, GENERATION_FIELD}
    ):
        return User.from_db(DEFAULT_DB_ALIAS, _CACHED_FIELDS, [cached[name] for name in _CACHED_FIELDS]), generation
    return None, generation


def remember_user(user: User, generation: str | None) -> None:
    """Caches a user read from the database under the generation read before it."""
    if generation is None:
        return
    entry = {name: getattr(user, name) for name in _CACHED_FIELDS}
    cache_set(user_cache_key(user.pk), {**entry, GENERATION_FIELD: generation}, settings.CACHE_TTL_USER)


def _start_generation(generation_key: str) -> str | None:
    token = uuid.uuid4().hex
    # add: of two first readers, both end up with the token that was stored.
    if cache_call(lambda c: c.add(generation_key, token, _generation_ttl()), default=False, what="add"):
        return token
    return cache_get(generation_key)


def user_cache_forget(*, user_id: object) -> None:
    """Drops the cached user and starts a new generation, so an entry written later by a
    reader of the old row is never served. Called after the commit that changed the user
    (and before it, for an immediate effect in this process's own requests)."""
    # If Redis is down the delete is remembered and replayed once it answers (resilient
    # cache); the new generation is not, and a reader's write during the outage fails too.
    cache_delete(user_cache_key(user_id))
    new = uuid.uuid4().hex
    cache_call(lambda c: c.set(user_generation_key(user_id), new, _generation_ttl()), default=None, what="set")
