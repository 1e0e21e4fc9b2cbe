"""Rates in Redis: per user, per API key, per address; stricter login and register."""

from __future__ import annotations

import pytest

from tests.support.api import ME, error_code, json_client
from tests.support.factories import DEFAULT_PASSWORD

LOGIN = "/api/auth/login"
REGISTER = "/api/auth/register"
REFRESH = "/api/auth/refresh"

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Small limits for this test; the throttles read them on every request."""

    def set_rates(**overrides: str) -> None:
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **overrides},
        }

    return set_rates


def client_at(address: str):
    client = json_client()
    client.defaults["REMOTE_ADDR"] = address
    return client


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert error_code(response) == "throttled"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json()["error"]["details"]["retry_after_s"] >= 1


def test_login_is_throttled_per_address_after_the_limit(rates, user):
    rates(login="3/min")
    client = client_at("10.0.0.1")

    answers = [client.post(LOGIN, {"username": user.username, "password": "wrong-guess-123"}) for _ in range(3)]
    blocked = client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert_throttled(blocked)
    other_address = client_at("10.0.0.2").post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD})
    assert other_address.status_code == 200


def test_register_has_its_own_stricter_limit(rates):
    rates(register="2/min")
    client = client_at("10.0.0.3")

    answers = [
        client.post(REGISTER, {"username": f"new{n}", "email": f"new{n}@example.com", "password": "violet-ladder-42"})
        for n in range(3)
    ]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_throttled(answers[2])


def test_anonymous_requests_are_throttled_per_address(rates):
    rates(anon="2/min")
    client = client_at("10.0.0.4")

    answers = [client.post(REFRESH, {"refresh": "x"}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_throttled(answers[2])
    assert client_at("10.0.0.5").post(REFRESH, {"refresh": "x"}).status_code == 401


def test_a_user_is_throttled_and_an_api_key_has_its_own_budget(rates, auth_client, key_client):
    rates(user="3/min")

    by_token = [auth_client.get(ME).status_code for _ in range(4)]
    by_key = [key_client.get(ME).status_code for _ in range(4)]

    assert by_token == [200, 200, 200, 429]
    assert by_key == [200, 200, 200, 429]
    assert_throttled(auth_client.get(ME))


def test_the_user_limit_follows_the_user_not_the_address(rates, refresh_token):
    rates(user="2/min")
    first, second = client_at("10.0.1.1"), client_at("10.0.1.2")
    access = str(refresh_token.access_token)
    for client in (first, second):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    assert first.get(ME).status_code == 200
    assert second.get(ME).status_code == 200
    assert_throttled(first.get(ME))


def test_generous_default_rates_let_normal_use_through(auth_client):
    assert all(auth_client.get(ME).status_code == 200 for _ in range(20))


@pytest.mark.parametrize("form", ["/dashboard/login", "/admin/login/"])
def test_the_sign_in_forms_share_the_login_budget(rates, user, form):
    """No door guesses freely: the dashboard's and the admin's forms count with the API's."""
    from django.test import Client

    rates(login="3/min")
    api, browser = client_at("10.0.0.3"), Client(REMOTE_ADDR="10.0.0.3")
    api.post(LOGIN, {"username": user.username, "password": "wrong-guess-123"})

    tries = [browser.post(form, {"username": user.username, "password": "wrong-guess-123"}) for _ in range(2)]
    blocked = browser.post(form, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert [t.status_code for t in tries] == [200, 200]  # the form again, with its error
    assert blocked.status_code == 429 and 1 <= int(blocked["Retry-After"]) <= 60
    assert Client(REMOTE_ADDR="10.0.0.4").get(form).status_code == 200  # another address, and a GET, are not counted
