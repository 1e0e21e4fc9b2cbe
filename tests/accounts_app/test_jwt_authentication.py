"""Bearer tokens: every way a token or header can be wrong is a 401 in the JSON shape."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts_app.services import user_deactivate
from tests.support.api import ME, bearer_client, json_client

pytestmark = pytest.mark.django_db


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assert_refused(response, code: str = "authentication_failed") -> None:
    assert response.status_code == 401
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert not body["error"]["message"].startswith("{")  # a sentence, not a serialized dict


def test_me_answers_the_user_of_the_token(auth_client, user):
    response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "date_joined": response.json()["date_joined"],
    }


def test_no_credentials_is_401_not_authenticated(api_client):
    response = api_client.get(ME)

    assert_refused(response, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_tampered_signature_is_refused(refresh_token):
    access = str(refresh_token.access_token)
    head, payload, signature = access.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert_refused(bearer_client(f"{head}.{payload}.{flipped}").get(ME))


def test_a_payload_changed_under_the_signature_is_refused(refresh_token, django_user_model):
    other = django_user_model.objects.create_user("mallory", "m@example.com", "x-long-password-1")
    head, payload, signature = str(refresh_token.access_token).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(other.id)

    assert_refused(bearer_client(f"{head}.{b64url(json.dumps(claims).encode())}.{signature}").get(ME))


def test_an_alg_none_token_is_refused(refresh_token):
    claims = dict(refresh_token.access_token.payload)
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{header}.{b64url(json.dumps(claims).encode())}."

    assert_refused(bearer_client(unsigned).get(ME))


def test_an_expired_access_token_is_refused(user):
    access = AccessToken.for_user(user)
    access.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))

    assert_refused(bearer_client(str(access)).get(ME))


def test_a_refresh_token_is_not_an_access_token(refresh_token):
    assert_refused(bearer_client(str(refresh_token)).get(ME))


def test_a_token_of_a_deleted_user_is_refused(user, refresh_token):
    access = str(refresh_token.access_token)
    user.delete()

    assert_refused(bearer_client(access).get(ME))


def test_a_deactivated_users_access_token_stops_working_at_once(auth_client, user):
    assert auth_client.get(ME).status_code == 200  # the user is now in the cache

    user_deactivate(user=user)

    assert_refused(auth_client.get(ME))


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "authentication_failed"),
        ("Bearer ", "authentication_failed"),
        ("Bearer a b", "authentication_failed"),
        ("Bearer not-a-jwt", "authentication_failed"),
        ("Bearer a.b.c", "authentication_failed"),
        ("Bearer \u00ff\u00fe\u00fd", "authentication_failed"),
        ("Bearer \u2603.snow.man", "authentication_failed"),
        ("Api-Key", "authentication_failed"),
        ("Api-Key nodot", "authentication_failed"),
        ("Api-Key sb_00000000.", "authentication_failed"),
        ("Api-Key a b", "authentication_failed"),
        ("Basic dXNlcjpwYXNz", "not_authenticated"),
        ("garbage", "not_authenticated"),
        ("", "not_authenticated"),
        ("\u0000\u0001", "not_authenticated"),
    ],
)
def test_malformed_authorization_headers_are_401_never_500(header, code):
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_refused(client.get(ME), code)


def test_the_bearer_scheme_is_case_insensitive(refresh_token):
    for scheme in ("bearer", "BEARER"):
        client = json_client()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {refresh_token.access_token}")
        assert client.get(ME).status_code == 200


def test_an_api_key_sent_as_a_bearer_token_is_told_where_it_goes(user_api_key):
    response = bearer_client(user_api_key[1]).get(ME)

    assert_refused(response)
    assert "send it as 'Authorization: Api-Key <key>'" in response.json()["error"]["message"]
