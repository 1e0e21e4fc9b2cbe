"""The authenticated user comes from Redis after the first request; changes drop it; a
Redis outage falls back to the database and is logged."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts_app.models import User
from accounts_app.services import user_deactivate
from accounts_app.user_cache import cached_user, remember_user, user_cache_key, user_get_for_authentication
from tests.support.api import ME, api_key_client, bearer_client

pytestmark = pytest.mark.django_db


def user_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]]


def test_the_second_request_reads_the_user_from_the_cache(auth_client):
    with CaptureQueriesContext(connection) as first:
        assert auth_client.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert auth_client.get(ME).status_code == 200

    assert len(user_queries(first)) == 1
    assert user_queries(second) == []


def test_the_password_hash_is_not_cached(auth_client, user):
    auth_client.get(ME)

    cached = cache.get(user_cache_key(user.id))
    assert cached["username"] == user.username
    assert "password" not in cached


def test_saving_a_user_drops_the_cached_copy(auth_client, user):
    auth_client.get(ME)
    user.email = "renamed@example.com"
    user.save()

    assert cache.get(user_cache_key(user.id)) is None
    assert auth_client.get(ME).json()["email"] == "renamed@example.com"


def test_deactivation_invalidates_the_cached_user(auth_client, user):
    auth_client.get(ME)
    assert cache.get(user_cache_key(user.id)) is not None

    user_deactivate(user=user)

    assert auth_client.get(ME).status_code == 401


def test_a_request_that_read_the_user_before_a_deactivation_committed_cannot_cache_it_as_active(
    user, django_capture_on_commit_callbacks
):
    """The interleaving, step by step: a request misses the cache and reads the row while
    the deactivation is saved but not committed; the commit's invalidation runs; only
    then does the request write what it read."""
    before_commit = User.objects.get(pk=user.pk)  # the row as the request read it: active
    with django_capture_on_commit_callbacks(execute=False) as at_commit:
        user_deactivate(user=user)  # saved; the receiver's first invalidation has run
        assert cached_user(user.pk)[0] is None
        _, generation = cached_user(user.pk)  # the request's cache miss, after that invalidation
    for callback in at_commit:  # the commit: the second invalidation
        callback()
    remember_user(before_commit, generation)  # the request writes its stale copy late

    assert cache.get(user_cache_key(user.pk))["is_active"] is True  # written, but of an old generation
    assert cached_user(user.pk)[0] is None  # so never served
    assert user_get_for_authentication(user_id=user.pk).is_active is False
    assert cached_user(user.pk)[0].is_active is False  # cached again, from the committed row


def test_a_request_that_read_the_user_before_any_invalidation_cannot_cache_it_as_active(user):
    _, generation = cached_user(user.pk)
    before = User.objects.get(pk=user.pk)
    user_deactivate(user=user)
    remember_user(before, generation)

    assert user_get_for_authentication(user_id=user.pk).is_active is False


@pytest.mark.server
def test_authentication_works_with_redis_stopped_and_the_outage_is_logged(
    cache_on_own_redis, auth_client, user_api_key, caplog
):
    assert auth_client.get(ME).status_code == 200  # the user is cached in the test's Redis
    assert cache.get(user_cache_key(user_api_key[0].user_id)) is not None

    cache_on_own_redis.kill()
    with caplog.at_level(logging.WARNING, logger="core.resilient_cache"):
        by_token = auth_client.get(ME)
        by_key = api_key_client(user_api_key[1]).get(ME)

    assert by_token.status_code == 200
    assert by_key.status_code == 200
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "core.resilient_cache"]
    assert warnings
    assert "Cache unavailable" in warnings[0].getMessage()


@pytest.mark.server
def test_login_and_throttled_routes_work_with_redis_stopped(cache_on_own_redis, api_client, user):
    cache_on_own_redis.kill()

    response = api_client.post("/api/auth/login", {"username": user.username, "password": "correct-horse-battery-9"})

    assert response.status_code == 200
    assert bearer_client(response.json()["access"]).get(ME).status_code == 200


@pytest.mark.server
def test_a_deactivation_during_an_outage_is_not_undone_by_the_stale_cache(
    cache_on_own_redis, auth_client, user, settings
):
    settings.CACHE_OUTAGE_RETRY_S = 0  # try Redis again on every call
    assert auth_client.get(ME).status_code == 200  # cached as active
    cache_on_own_redis.stop()  # a clean stop: the cached user survives in the append-only file

    user_deactivate(user=user)  # the cache delete cannot reach Redis
    during = auth_client.get(ME)
    cache_on_own_redis.start()
    after = auth_client.get(ME)

    assert during.status_code == 401
    assert after.status_code == 401
    assert cache.get(user_cache_key(user.id)) is None or cache.get(user_cache_key(user.id))["is_active"] is False
