from __future__ import annotations

import pytest

from accounts_app.models import User
from tests.support.api import error_code
from tests.support.factories import UserFactory

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
STRONG = "violet-ladder-orbit-42"

pytestmark = pytest.mark.django_db


def test_register_creates_a_user_that_can_log_in(api_client):
    response = api_client.post(REGISTER, {"username": "ada", "email": "ada@example.com", "password": STRONG})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "date_joined"}
    assert body["username"] == "ada"
    assert body["email"] == "ada@example.com"
    login = api_client.post(LOGIN, {"username": "ada", "password": STRONG})
    assert login.status_code == 200
    assert set(login.json()) == {"access", "refresh"}


def test_register_never_stores_the_password_in_clear(api_client):
    api_client.post(REGISTER, {"username": "ada", "email": "ada@example.com", "password": STRONG})

    user = User.objects.get(username="ada")
    assert STRONG not in user.password
    assert user.check_password(STRONG)


@pytest.mark.parametrize("taken", ["grace", "GRACE"])
def test_duplicate_username_is_refused_in_any_case(api_client, taken):
    UserFactory(username="grace")

    response = api_client.post(REGISTER, {"username": taken, "email": "other@example.com", "password": STRONG})

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "username" in response.json()["error"]["details"]
    assert User.objects.count() == 1


@pytest.mark.parametrize("taken", ["grace@example.com", "Grace@Example.com"])
def test_duplicate_email_is_refused_in_any_case(api_client, taken):
    UserFactory(username="grace", email="grace@example.com")

    response = api_client.post(REGISTER, {"username": "other", "email": taken, "password": STRONG})

    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "message_part"),
    [
        ("short9", "too short"),
        ("password123", "too common"),
        ("4815162342108", "entirely numeric"),
        ("margaret-hamilton", "too similar"),
    ],
)
def test_weak_password_is_refused_with_the_validator_messages(api_client, password, message_part):
    response = api_client.post(
        REGISTER, {"username": "margaret-hamilton", "email": "mh@example.com", "password": password}
    )

    assert response.status_code == 400
    messages = response.json()["error"]["details"]["password"]
    assert any(message_part in message for message in messages), messages
    assert not User.objects.filter(username="margaret-hamilton").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "password": STRONG}, "username"),
        ({"username": "ada", "password": STRONG}, "email"),
        ({"username": "ada", "email": "a@example.com"}, "password"),
        ({"username": "ada", "email": "not-an-email", "password": STRONG}, "email"),
        ({"username": "ada lovelace!", "email": "a@example.com", "password": STRONG}, "username"),
        ({"username": "ada", "email": "a@example.com", "password": STRONG, "is_staff": True}, "is_staff"),
    ],
)
def test_bad_register_bodies_are_400_naming_the_field(api_client, body, field):
    response = api_client.post(REGISTER, body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["details"]
    assert not User.objects.exists()


def test_a_bad_email_and_a_weak_password_are_told_together(api_client):
    response = api_client.post(REGISTER, {"username": "ada", "email": "not-an-email", "password": "short9"})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"email", "password"}


def test_a_body_that_is_not_json_is_a_parse_error(api_client):
    response = api_client.post(REGISTER, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert error_code(response) == "parse_error"


def test_closed_registration_is_403_registration_closed(api_client, settings):
    settings.OPEN_REGISTRATION = False

    response = api_client.post(REGISTER, {"username": "ada", "email": "ada@example.com", "password": STRONG})

    assert response.status_code == 403
    assert error_code(response) == "registration_closed"
    assert not User.objects.exists()
