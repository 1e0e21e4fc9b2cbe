"""Login, refresh (rotation), logout."""

from __future__ import annotations

import pytest

from accounts_app.services import user_deactivate
from accounts_app.tokens import refresh_token_for
from tests.support.api import ME, bearer_client, error_code
from tests.support.factories import DEFAULT_PASSWORD, UserFactory

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"

pytestmark = pytest.mark.django_db


def login(client, username: str, password: str = DEFAULT_PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_returns_a_pair_whose_access_token_opens_the_api(api_client, user):
    response = login(api_client, user.username)

    assert response.status_code == 200
    me = bearer_client(response.json()["access"]).get(ME)
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_login_accepts_the_email_in_place_of_the_username(api_client, user):
    response = login(api_client, user.email.upper())

    assert response.status_code == 200


def test_wrong_password_unknown_user_and_deactivated_user_get_the_same_401(api_client, user):
    inactive = UserFactory(is_active=False)

    wrong_password = login(api_client, user.username, "not-the-password-1")
    unknown_user = login(api_client, "nobody-at-all")
    deactivated = login(api_client, inactive.username)

    assert wrong_password.status_code == unknown_user.status_code == deactivated.status_code == 401
    assert wrong_password.json() == unknown_user.json() == deactivated.json()
    assert error_code(wrong_password) == "invalid_credentials"


def test_login_is_not_blocked_by_a_stale_authorization_header(user):
    client = bearer_client("expired.or.garbage")

    assert login(client, user.username).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"username": "someone"}, {"password": "x"}, {"username": "a", "password": "b", "remember_me": True}],
)
def test_bad_login_bodies_are_400(api_client, body):
    response = api_client.post(LOGIN, body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api_client, user):
    first = login(api_client, user.username).json()

    rotated = api_client.post(REFRESH, {"refresh": first["refresh"]})
    reused = api_client.post(REFRESH, {"refresh": first["refresh"]})

    assert rotated.status_code == 200
    pair = rotated.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != first["refresh"]
    assert bearer_client(pair["access"]).get(ME).status_code == 200
    assert reused.status_code == 401
    assert error_code(reused) == "token_not_valid"
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 200


def test_logout_is_205_and_the_refresh_token_no_longer_refreshes(api_client, user):
    pair = login(api_client, user.username).json()

    logout = api_client.post(LOGOUT, {"refresh": pair["refresh"]})
    refresh = api_client.post(REFRESH, {"refresh": pair["refresh"]})

    assert logout.status_code == 205
    assert logout.content == b""
    assert refresh.status_code == 401
    assert error_code(refresh) == "token_not_valid"


def test_an_access_token_is_not_a_refresh_token(api_client, user):
    pair = login(api_client, user.username).json()

    assert api_client.post(REFRESH, {"refresh": pair["access"]}).status_code == 401
    assert api_client.post(LOGOUT, {"refresh": pair["access"]}).status_code == 401


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 5000])
def test_garbage_refresh_tokens_are_refused_with_json(api_client, token):
    response = api_client.post(REFRESH, {"refresh": token})

    assert response.status_code in (400, 401)
    assert error_code(response) in ("validation_error", "token_not_valid")


def test_a_deactivated_user_cannot_refresh(api_client, user):
    refresh = str(refresh_token_for(user))
    user_deactivate(user=user)

    response = api_client.post(REFRESH, {"refresh": refresh})

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"
