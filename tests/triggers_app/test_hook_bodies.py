"""What a hook makes of a request's body: JSON, vendor JSON types, text when the hook takes
it, and the mapping from the body, the query and the exposed headers to the inputs."""

from __future__ import annotations

import pytest

from tests.support.hooks import make_hook
from triggers_app.models import Delivery


def test_text_on_a_json_hook_is_415(user):
    hook = make_hook(user)

    response = hook.post(raw=b"hello", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert hook.executions() == []


@pytest.mark.parametrize(
    ("content_type", "raw", "text"),
    [("text/plain", b"hello there", "hello there"), ("application/x-www-form-urlencoded", b"a=1&b=2", "a=1&b=2")],
)
def test_a_hook_that_accepts_text_hands_the_body_to_its_mapping_as_text(user, content_type, raw, text):
    hook = make_hook(user, accept_text=True, input_mapping={"text": "{{ body }}"})

    response = hook.post(raw=raw, content_type=content_type)

    assert response.status_code == 202, response.content
    assert hook.executions()[0].inputs == {"text": text}


def test_vendor_json_types_are_json(user):
    hook = make_hook(user)

    assert hook.post({"text": "hi"}, content_type="application/vnd.api+json; charset=utf-8").status_code == 202


def test_a_body_that_is_not_json_is_a_parse_error(user):
    hook = make_hook(user)

    response = hook.post(raw=b'{"text": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert hook.executions() == []


def test_the_mapping_reads_the_body_the_query_and_the_headers_its_owner_exposed(user):
    hook = make_hook(
        user,
        input_mapping={
            "text": "{{ body.order.id }}/{{ query.source }}/{{ headers['x-shop'] }}/{{ headers.authorization }}"
        },
        exposed_headers=["X-Shop"],
    )

    response = hook.post(
        {"order": {"id": 17}}, query="source=web&source=app", **{"X-Shop": "north", "Authorization": "Bearer s3cret"}
    )

    assert response.status_code == 202, response.content
    # The first value of a repeated query name; a header not exposed reads as nothing.
    assert hook.executions()[0].inputs == {"text": "17/web/north/"}


def test_a_mapping_that_fails_is_a_400_naming_why(user):
    hook = make_hook(user, input_mapping={"text": "{{ body.items | join(1, 2, 3) }}"})

    response = hook.post({"items": ["a"]})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "mapping_failed"
    assert "mapping" in response.json()["error"]["message"]
    assert hook.executions() == []


def test_without_a_mapping_the_body_must_be_an_object(user):
    hook = make_hook(user)

    response = hook.post(["not", "an", "object"])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "mapping_failed"


def test_inputs_the_workflow_refuses_are_a_400_as_for_the_api_and_leave_no_execution(user):
    hook = make_hook(user)

    response = hook.post({"wrong": "field"}, **{"Idempotency-Key": "k"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert hook.executions() == []
    refused = Delivery.objects.get(trigger=hook.trigger)
    assert (refused.response_status, refused.error_code, refused.dedup_key) == (400, "validation_error", None)
    # The id was not spent on a refusal: the corrected delivery goes through.
    assert hook.post({"text": "ok"}, **{"Idempotency-Key": "k"}).status_code == 202
