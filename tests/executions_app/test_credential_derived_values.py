"""What a template made of a secret (upper-cased, replaced, prefixed) is redacted when a
server echoes it, as the secret itself is (test_credentials.py)."""

from __future__ import annotations

import json

import pytest

from tests.support.http_nodes import SECRET, create_credential, secret_workflow

pytestmark = [pytest.mark.server, pytest.mark.worker_thread]


def test_what_a_template_makes_of_a_secret_never_comes_back_either(
    celery_worker, make_workflow, run, auth_client, server
):
    create_credential(auth_client)
    workflow_id = secret_workflow(
        make_workflow,
        server.url("/echo"),
        headers={"X-Shout": "{{ secrets.api_token | upper }}"},
        json={"sig": "{{ 'v1:' ~ secrets.api_token | replace('/', '_') }}", "size": "{{ secrets.api_token | length }}"},
    )
    execution = run(workflow_id).json()

    assert execution["status"] == "completed", execution
    received = server.requests[0]
    assert received["headers"]["x-shout"] == SECRET.upper()
    assert json.loads(received["body"])["sig"] == "v1:" + SECRET.replace("/", "_")
    echo = execution["outputs"]["result"]["json"]
    assert echo["headers"]["x-shout"] == "[redacted]"
    assert json.loads(echo["body"]) == {"sig": "[redacted]", "size": len(SECRET)}  # a length is no secret
    text = auth_client.get(f"/api/executions/{execution['id']}").content.decode()
    for derived in (SECRET.upper(), SECRET.replace("/", "_"), "SK-LIVE-ZQ9"):
        assert derived not in text
