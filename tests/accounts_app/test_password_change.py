"""Changing the password: earlier tokens and sessions stop working at once, API keys stay."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db.models import F
from django.test import Client

from accounts_app.models import User
from tests.support.api import (
    ME,
    api_key_client,
    bearer_client,
    error_code,
    json_client,
)
from tests.support.factories import DEFAULT_PASSWORD, ApiKeyFactory

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
PASSWORD = "/api/auth/password"
NEW_PASSWORD = "amber-kettle-quartz-77"

pytestmark = pytest.mark.django_db


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A stronger hasher than the tests' MD5, cheap enough to log in with here."""

    algorithm = "pbkdf2_fast_test"
    iterations = 1000


def login(username: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    response = json_client().post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def change(access: str, current: str = DEFAULT_PASSWORD, new: str = NEW_PASSWORD):
    return bearer_client(access).post(PASSWORD, {"current_password": current, "new_password": new})


def test_a_new_password_signs_out_every_earlier_token_and_answers_a_working_pair(user):
    laptop, phone = login(user.username), login(user.username)
    _, raw_key = ApiKeyFactory.create_with_key(user=user)

    response = change(laptop["access"])

    assert response.status_code == 200
    fresh = response.json()
    for old in (laptop, phone):
        refused = bearer_client(old["access"]).get(ME)
        assert refused.status_code == 401
        assert "password of this account was changed" in refused.json()["error"]["message"]
        stale_refresh = json_client().post(REFRESH, {"refresh": old["refresh"]})
        assert stale_refresh.status_code == 401
        assert error_code(stale_refresh) == "token_not_valid"
        assert json_client().post("/api/auth/logout", {"refresh": old["refresh"]}).status_code == 401
    assert bearer_client(fresh["access"]).get(ME).json()["username"] == user.username
    rotated = json_client().post(REFRESH, {"refresh": fresh["refresh"]})
    assert rotated.status_code == 200
    assert bearer_client(rotated.json()["access"]).get(ME).status_code == 200
    assert json_client().post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 401
    login(user.username, NEW_PASSWORD)
    assert api_key_client(raw_key).get(ME).status_code == 200  # keys are revoked one by one


@pytest.mark.parametrize(
    ("current", "new", "field"),
    [
        ("not-the-password-1", NEW_PASSWORD, "current_password"),
        (DEFAULT_PASSWORD, "12345", "new_password"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, "new_password"),
    ],
)
def test_a_wrong_current_password_or_a_weak_new_one_is_400_and_changes_nothing(user, current, new, field):
    pair = login(user.username)

    response = change(pair["access"], current, new)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert list(response.json()["error"]["details"]) == [field]
    assert bearer_client(pair["access"]).get(ME).status_code == 200
    login(user.username)


@pytest.mark.parametrize("body", [{}, {"current_password": DEFAULT_PASSWORD}, {"new_password": NEW_PASSWORD, "x": 1}])
def test_incomplete_bodies_are_400(user, body):
    response = bearer_client(login(user.username)["access"]).post(PASSWORD, body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_an_api_key_cannot_change_the_password(user):
    _, raw_key = ApiKeyFactory.create_with_key(user=user)
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}

    response = api_key_client(raw_key).post(PASSWORD, body)

    assert response.status_code == 403
    assert error_code(response) == "login_required"
    login(user.username)


def test_guesses_count_per_address_and_never_lock_the_owner_out(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/min"},
    }
    stolen, own = login(user.username)["access"], login(user.username)["access"]
    thief = bearer_client(stolen)
    thief.defaults["REMOTE_ADDR"] = "10.9.0.66"
    guesses = [
        thief.post(PASSWORD, {"current_password": f"guess-{n}-xxxxxx", "new_password": NEW_PASSWORD}) for n in range(4)
    ]
    owner = bearer_client(own)
    owner.defaults["REMOTE_ADDR"] = "10.9.0.1"

    answer = owner.post(PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})

    assert [g.status_code for g in guesses] == [400, 400, 400, 429]
    assert error_code(guesses[-1]) == "throttled"
    assert answer.status_code == 200
    assert thief.get(ME).status_code == 401


def test_revoke_api_keys_signs_out_the_keys_too(user):
    _, raw_key = ApiKeyFactory.create_with_key(user=user)
    client = bearer_client(login(user.username)["access"])

    answer = client.post(
        PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD, "revoke_api_keys": True}
    )

    assert answer.status_code == 200
    refused = api_key_client(raw_key).get(ME)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


def test_an_administrator_setting_a_password_signs_the_user_out(user):
    access = login(user.username)["access"]
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "admin-password-long-1"))

    page = admin.post(
        f"/admin/accounts_app/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert page.status_code == 302
    assert bearer_client(access).get(ME).status_code == 401
    login(user.username, NEW_PASSWORD)


def test_an_administrator_disabling_password_sign_in_signs_the_user_out(user, admin_client):
    pair = login(user.username)

    page = admin_client.post(
        f"/admin/accounts_app/user/{user.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert page.status_code == 302
    assert not User.objects.get(pk=user.pk).has_usable_password()
    assert bearer_client(pair["access"]).get(ME).status_code == 401
    assert json_client().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401


def test_the_dashboard_session_ends_with_a_password_change(user):
    browser = Client()
    browser.force_login(user)
    assert browser.get("/dashboard/").status_code == 200

    assert change(login(user.username)["access"]).status_code == 200

    assert browser.get("/dashboard/").status_code == 302


def test_a_hash_upgrade_at_login_is_not_a_password_change(user, settings):
    access = login(user.username)["access"]  # the user's hash is MD5, the tests' hasher
    settings.PASSWORD_HASHERS = [
        f"{__name__}.FastPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    login(user.username)  # Django re-hashes the password with the preferred hasher

    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_fast_test$")
    assert bearer_client(access).get(ME).status_code == 200


def test_a_token_newer_than_a_stale_cached_user_works_and_refreshes_the_cache(user):
    old = login(user.username)["access"]
    assert bearer_client(old).get(ME).status_code == 200  # the user is cached now
    # A change whose cache invalidation never arrived (a command that could not reach Redis).
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)

    new = login(user.username)["access"]

    assert bearer_client(new).get(ME).status_code == 200
    assert bearer_client(old).get(ME).status_code == 401  # the cache was read again
