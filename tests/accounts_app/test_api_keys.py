"""API keys: create (shown once), list, revoke, and `Authorization: Api-Key <key>`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_app.models import ApiKey
from accounts_app.services import user_deactivate
from tests.support.api import ME, api_key_client, error_code
from tests.support.factories import ApiKeyFactory, UserFactory

KEYS = "/api/auth/api-keys"

pytestmark = pytest.mark.django_db


def create_key(client, **body):
    return client.post(KEYS, {"name": "ci", **body})


def test_a_created_key_is_shown_once_and_authenticates(auth_client, user):
    response = create_key(auth_client)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked", "key"}
    prefix, _, secret = body["key"].partition(".")
    assert prefix == body["prefix"]
    assert prefix.startswith("sb_")
    assert len(secret) >= 43
    me = api_key_client(body["key"]).get(ME)
    assert me.status_code == 200
    assert me.json()["id"] == user.id


def test_the_secret_is_stored_only_as_a_hash(auth_client):
    key = create_key(auth_client).json()["key"]
    secret = key.partition(".")[2]

    stored = ApiKey.objects.get()
    assert secret not in stored.secret_hash
    assert all(secret not in str(value) for value in stored.__dict__.values())


def test_the_list_is_paginated_and_never_shows_the_secret(auth_client):
    created = [create_key(auth_client, name=f"key {n}").json() for n in range(3)]

    response = auth_client.get(KEYS, {"page_size": 2})

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 3
    assert page["next"] is not None
    assert len(page["results"]) == 2
    text = response.content.decode()
    for key in created:
        assert key["key"].partition(".")[2] not in text
    assert set(page["results"][0]) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked"}


def test_the_list_shows_only_the_callers_keys(auth_client, user):
    ApiKeyFactory(user=UserFactory())
    mine = ApiKeyFactory(user=user)

    results = auth_client.get(KEYS).json()["results"]

    assert [key["id"] for key in results] == [mine.id]


def test_default_and_chosen_expiry(auth_client, settings):
    settings.API_KEY_DEFAULT_DAYS = 90
    before = timezone.now()

    default = ApiKey.objects.get(pk=create_key(auth_client).json()["id"])
    chosen = ApiKey.objects.get(pk=create_key(auth_client, expires_in_days=7).json()["id"])

    assert abs((default.expires_at - before) - timedelta(days=90)) < timedelta(minutes=1)
    assert abs((chosen.expires_at - before) - timedelta(days=7)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "ci", "expires_in_days": None},
        {"name": "ci", "expires_in_days": 0},
        {"name": "ci", "expires_in_days": 3651},
        {"name": "ci", "expires_in_days": "soon"},
        {"name": ""},
        {"name": "x" * 101},
        {},
        {"name": "ci", "secret": "mine"},
    ],
)
def test_bad_create_bodies_are_400(auth_client, body):
    response = auth_client.post(KEYS, body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert not ApiKey.objects.exists()


def test_an_api_key_cannot_create_keys(key_client):
    response = create_key(key_client)

    assert response.status_code == 403
    assert error_code(response) == "login_required"
    assert ApiKey.objects.count() == 1


def test_revoked_key_stops_working(auth_client, user_api_key):
    api_key, raw = user_api_key

    response = auth_client.delete(f"{KEYS}/{api_key.id}")

    assert response.status_code == 204
    refused = api_key_client(raw).get(ME)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    listed = auth_client.get(KEYS).json()["results"]
    assert listed[0]["revoked"] is True
    assert auth_client.delete(f"{KEYS}/{api_key.id}").status_code == 204  # idempotent


def test_a_key_can_revoke_itself(key_client, user_api_key):
    assert key_client.delete(f"{KEYS}/{user_api_key[0].id}").status_code == 204
    assert key_client.get(ME).status_code == 401


def test_another_users_key_is_404_to_revoke_and_keeps_working(auth_client):
    other_key, other_raw = ApiKeyFactory.create_with_key(user=UserFactory())

    response = auth_client.delete(f"{KEYS}/{other_key.id}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert api_key_client(other_raw).get(ME).status_code == 200


@pytest.mark.parametrize("key_id", ["999999", "99999999999999999999999", "abc"])
def test_revoking_a_missing_key_is_404(auth_client, key_id):
    response = auth_client.delete(f"{KEYS}/{key_id}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_an_expired_key_is_refused(user):
    _, raw = ApiKeyFactory.create_with_key(user=user, expires_at=timezone.now() - timedelta(seconds=1))

    response = api_key_client(raw).get(ME)

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_the_right_prefix_with_a_wrong_secret_is_refused(user_api_key):
    api_key, raw = user_api_key
    wrong = f"{api_key.prefix}.{'A' * 43}"

    response = api_key_client(wrong).get(ME)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    assert api_key_client(raw).get(ME).status_code == 200


def test_an_unknown_prefix_is_refused(user_api_key):
    raw = user_api_key[1]
    unknown = "sb_ffffffff" + raw[len("sb_00000000") :]

    assert api_key_client(unknown).get(ME).status_code == 401


def test_a_deactivated_users_key_is_refused(user, user_api_key):
    client = api_key_client(user_api_key[1])
    assert client.get(ME).status_code == 200

    user_deactivate(user=user)

    response = client.get(ME)
    assert response.status_code == 401
    assert "deactivated" in response.json()["error"]["message"]


def test_last_used_at_is_written_at_most_once_a_minute(key_client, user_api_key):
    api_key = user_api_key[0]

    key_client.get(ME)
    first_use = ApiKey.objects.get(pk=api_key.pk).last_used_at
    with CaptureQueriesContext(connection) as queries:
        key_client.get(ME)
    assert first_use is not None
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first_use
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    key_client.get(ME)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first_use


def test_the_scheme_name_is_case_insensitive(user_api_key):
    client = api_key_client("")
    client.credentials(HTTP_AUTHORIZATION=f"api-key {user_api_key[1]}")

    assert client.get(ME).status_code == 200
