"""A signed hook refuses, with a 401 and no execution, every delivery whose signature is
missing, wrong, stale or seen before; each refusal is in the delivery log."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.hooks import make_hook, sign
from triggers_app.models import Delivery
from triggers_app.webhooks.signing import parse_header

pytestmark = pytest.mark.django_db

BODY = {"text": "hello"}


def assert_refused(hook, response, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == code
    assert hook.executions() == []
    logged = Delivery.objects.get(trigger=hook.trigger)
    assert (logged.response_status, logged.error_code, logged.execution_id) == (401, code, None)


def test_a_delivery_signed_with_another_secret_is_refused(user):
    hook = make_hook(user)
    hook.secret = "whsec_not-the-hooks-secret"

    assert_refused(hook, hook.post(BODY), "signature_invalid")


def test_a_signature_over_another_body_is_refused(user):
    hook = make_hook(user)
    data = json.dumps(BODY).encode()
    forged = sign(hook.secret, b'{"text": "something else"}')

    response = hook.post(raw=data, signed=False, **{"X-Switchboard-Signature": forged})

    assert_refused(hook, response, "signature_invalid")


def test_a_signature_with_a_stale_timestamp_is_refused(user):
    hook = make_hook(user, signature_tolerance_s=300)

    response = hook.post(BODY, timestamp=int(time.time()) - 301 - 5)

    assert_refused(hook, response, "signature_expired")


def test_a_signature_from_the_future_past_the_tolerance_is_refused(user):
    hook = make_hook(user, signature_tolerance_s=60)

    assert_refused(hook, hook.post(BODY, timestamp=int(time.time()) + 600), "signature_expired")


def test_a_signature_sent_again_is_refused_as_a_replay(user):
    hook = make_hook(user)
    data = json.dumps(BODY).encode()
    header = sign(hook.secret, data)

    first = hook.post(raw=data, signed=False, **{"X-Switchboard-Signature": header})
    again = hook.post(raw=data, signed=False, **{"X-Switchboard-Signature": header})

    assert first.status_code == 202
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "signature_replayed"
    assert len(hook.executions()) == 1
    assert Delivery.objects.filter(trigger=hook.trigger, error_code="signature_replayed").count() == 1


def test_a_signed_hook_refuses_a_delivery_without_a_signature(user):
    hook = make_hook(user)

    assert_refused(hook, hook.post(BODY, signed=False), "signature_missing")


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", "v1=00", "t=1700000000"])
def test_a_malformed_signature_header_is_an_invalid_signature(user, header):
    hook = make_hook(user)

    assert_refused(hook, hook.post(BODY, signed=False, **{"X-Switchboard-Signature": header}), "signature_invalid")


def test_any_of_several_signatures_may_match_as_a_rotating_sender_sends_them(user):
    hook = make_hook(user)
    data = json.dumps(BODY).encode()
    now = int(time.time())
    good = sign(hook.secret, data, now).split(",")[1]
    header = f"t={now},v1={'0' * 64},{good}"

    assert hook.post(raw=data, signed=False, **{"X-Switchboard-Signature": header}).status_code == 202


def test_the_header_is_read_as_stripe_writes_it():
    assert parse_header("t=1700000000,v1=abc, v1=DEF,v0=old") == (1700000000, ["abc", "def"])
    assert parse_header("") == (None, [])
