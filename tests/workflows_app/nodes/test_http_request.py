"""HTTP_REQUEST alone: what it hands the guarded client, what it makes of the answer, and
the errors it raises, with the secrets a server echoes redacted."""

from __future__ import annotations

from typing import Any

import pytest

from credentials_app.services import LoadedSecrets
from outbound.errors import HttpCallError
from tests.support.node_ports import FakeHttpClient, fake_ports, http_answer, node_context
from workflows_app.nodes.base import Node, get_node_class

TOKEN = "sk-live-4f9a1c2e8b7d"  # a made-up credential value


def http_request(config: dict[str, Any]) -> Node:
    return get_node_class("HTTP_REQUEST").from_config("notify", config)


def run(config: dict[str, Any], client: FakeHttpClient, **context: Any) -> Any:
    return http_request(config).run(node_context(fake_ports(http=client), **context))


def test_the_client_gets_the_rendered_request_with_the_idempotency_key() -> None:
    client = FakeHttpClient(http_answer(201, b'{"queued": true, "n": 2}', url="https://hooks.example.com/in"))
    config = {
        "method": "post",
        "url": "https://hooks.example.com/{{ workflow.id }}/in",
        "headers": {"X-Mood": "{{ nodes.mood.output.label }}"},
        "query": {"count": "{{ inputs.count }}"},
        "json": {"text": "{{ inputs.message }}", "count": "{{ inputs.count }}"},
        "timeout_s": 5,
    }

    output = run(config, client, deadline=1234.5)

    assert client.calls == [
        {
            "method": "POST",
            "url": "https://hooks.example.com/wf-1/in",
            "headers": {"X-Mood": "negative", "Idempotency-Key": "exec-9:notify"},
            "params": {"count": "2"},
            "json": {"text": "The parcel is late again", "count": 2},
            "content": None,
            "timeout_s": 5,
            "deadline": 1234.5,
            "origin_bound_headers": [],
            "origin_bound_params": [],
            "origin_bound_body": False,
        }
    ]
    assert output == {
        "status": 201,
        "headers": {"content-type": "application/json"},
        "json": {"queued": True, "n": 2},
    }


def test_a_text_body_goes_as_text_and_a_text_answer_comes_back_as_text() -> None:
    client = FakeHttpClient(http_answer(200, "plain words", "text/plain; charset=utf-8"))

    output = run({"method": "PUT", "url": "https://api.example.com/notes", "body": "{{ inputs.message }}"}, client)

    [call] = client.calls
    assert call["content"] == "The parcel is late again"
    assert call["json"] is None
    assert call["headers"] == {"Idempotency-Key": "exec-9:notify", "Content-Type": "text/plain; charset=utf-8"}
    assert output == {"status": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "text": "plain words"}


def test_an_idempotency_key_the_node_names_is_sent_as_it_is() -> None:
    client = FakeHttpClient()

    run({"url": "https://api.example.com/", "headers": {"idempotency-key": "order-{{ inputs.count }}"}}, client)

    assert client.calls[0]["headers"] == {"idempotency-key": "order-2"}


def test_a_credential_is_sent_bound_to_the_first_origin() -> None:
    client = FakeHttpClient()
    config = {"url": "https://api.example.com/", "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}

    run(config, client, secrets=LoadedSecrets({"API_TOKEN": TOKEN}))

    [call] = client.calls
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert call["origin_bound_headers"] == ["Authorization"]


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (404, False), (302, False)])
def test_an_answer_outside_2xx_is_an_http_status_error_with_the_echoed_secret_redacted(status, retryable) -> None:
    echo = f"bad token Bearer {TOKEN} for this call"
    client = FakeHttpClient(http_answer(status, echo, "text/plain", url="https://api.example.com/orders?id=7"))
    config = {"url": "https://api.example.com/orders", "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}

    with pytest.raises(HttpCallError) as failed:
        run(config, client, secrets=LoadedSecrets({"API_TOKEN": TOKEN}))

    error = failed.value
    assert error.code == "http_status"
    assert error.retryable is retryable
    assert f"answered {status}, not a 2xx status" in error.message
    assert "The response began: bad token Bearer [redacted] for this call" in error.message
    assert TOKEN not in error.message
    assert len(client.calls) == 1


def test_an_expected_status_is_an_answer_not_an_error() -> None:
    client = FakeHttpClient(http_answer(404, b'{"found": false}'))

    output = run({"url": "https://api.example.com/", "expect_status": [200, 404]}, client)

    assert output["status"] == 404 and output["json"] == {"found": False}


def test_a_missing_credential_fails_before_any_call() -> None:
    client = FakeHttpClient()
    config = {"url": "https://api.example.com/", "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}

    with pytest.raises(HttpCallError) as failed:
        run(config, client, secrets=LoadedSecrets({}, missing=["API_TOKEN"]))

    assert failed.value.code == "credential_missing"
    assert "API_TOKEN" in failed.value.message
    assert client.calls == []


def test_an_unreadable_credential_fails_before_any_call() -> None:
    client = FakeHttpClient()
    config = {"url": "https://api.example.com/", "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}

    with pytest.raises(HttpCallError) as failed:
        run(config, client, secrets=LoadedSecrets({}, unreadable=["API_TOKEN"]))

    assert failed.value.code == "credential_unreadable"
    assert client.calls == []
