"""Credentials: write-only values, encrypted at rest, usable only in HTTP_REQUEST headers,
query and body, and never echoed back (API, logs, node outputs, errors)."""

from __future__ import annotations

import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from rest_framework.test import APIClient

from credentials_app.models import Credential
from credentials_app.services import credential_reencrypt_all, decrypt, secrets_for
from executions_app.models import NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id
from tests.support.factories import UserFactory
from tests.support.http_nodes import SECRET, create_credential, secret_workflow
from tests.support.http_server import limit

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_list_read_never_show_the_value(auth_client) -> None:
    response = create_credential(auth_client, description="the vendor key")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "description", "created_at", "updated_at"}
    assert (body["name"], body["description"]) == ("api_token", "the vendor key")
    listing = auth_client.get("/api/credentials")
    assert listing.json()["count"] == 1
    assert listing.json()["results"][0] == body
    one = auth_client.get(f"/api/credentials/{body['id']}")
    assert one.json() == body
    for response in (listing, one):
        assert SECRET not in response.content.decode()


def test_the_value_is_encrypted_at_rest(auth_client, user) -> None:
    create_credential(auth_client)
    stored = Credential.objects.get(owner=user)
    assert SECRET not in stored.encrypted_value
    assert decrypt(stored.encrypted_value) == SECRET
    assert secrets_for(owner_id=user.id, names={"api_token", "other"}) == {"api_token": SECRET}
    assert secrets_for(owner_id=user.id, names={"api_token", "other"}).missing == ("other",)


def test_put_keeps_the_value_when_it_is_left_out(auth_client, user) -> None:
    credential = create_credential(auth_client).json()
    url = f"/api/credentials/{credential['id']}"
    renamed = auth_client.put(url, {**credential, "name": "vendor_key", "description": "renamed"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "vendor_key"
    assert secrets_for(owner_id=user.id, names={"vendor_key"}) == {"vendor_key": SECRET}
    changed = auth_client.put(url, {"name": "vendor_key", "value": "new-value"}, format="json")
    assert changed.status_code == 200
    assert "new-value" not in changed.content.decode()
    assert secrets_for(owner_id=user.id, names={"vendor_key"}) == {"vendor_key": "new-value"}
    assert changed.json()["description"] == ""  # PUT replaces what it is given
    patched = auth_client.patch(url, {"description": "patched"}, format="json")
    assert patched.json()["description"] == "patched"
    assert auth_client.delete(url).status_code == 204
    assert auth_client.get(url).status_code == 404
    assert not Credential.objects.filter(owner=user).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "1abc", "value": "x"}, "name"),
        ({"name": "has-dash", "value": "x"}, "name"),
        ({"name": "a" * 65, "value": "x"}, "name"),
        ({"name": "ok"}, "value"),
        ({"name": "ok", "value": ""}, "value"),
        ({"name": "ok", "value": 12}, "value"),
        ({"name": "ok", "value": "x", "owner": 1}, "owner"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(auth_client, body, field) -> None:
    response = auth_client.post("/api/credentials", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_names_are_unique_per_user(auth_client) -> None:
    assert create_credential(auth_client).status_code == 201
    duplicate = create_credential(auth_client, value="other")
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "credential_name_taken"
    second = create_credential(auth_client, name="second").json()
    clash = auth_client.put(f"/api/credentials/{second['id']}", {"name": "api_token"}, format="json")
    assert clash.status_code == 409
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert create_credential(stranger).status_code == 201  # the same name for another user


def test_another_users_credential_is_404(auth_client) -> None:
    credential = create_credential(auth_client).json()
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    url = f"/api/credentials/{credential['id']}"
    assert stranger.get(url).status_code == 404
    assert stranger.put(url, {"name": "mine", "value": "x"}, format="json").status_code == 404
    assert stranger.delete(url).status_code == 404
    assert stranger.get("/api/credentials").json()["count"] == 0
    assert auth_client.get(url).status_code == 200


def test_keys_rotate(auth_client, user, settings) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    limit(settings, CREDENTIALS_KEYS=[old_key])
    create_credential(auth_client)
    old_token = Credential.objects.get(owner=user).encrypted_value
    limit(settings, CREDENTIALS_KEYS=[new_key, old_key])
    assert secrets_for(owner_id=user.id, names={"api_token"}) == {"api_token": SECRET}
    assert credential_reencrypt_all() == (1, [])
    assert Credential.objects.get(owner=user).encrypted_value != old_token
    limit(settings, CREDENTIALS_KEYS=[new_key])
    assert secrets_for(owner_id=user.id, names={"api_token"}) == {"api_token": SECRET}
    limit(settings, CREDENTIALS_KEYS=[old_key])  # the key it is under was removed
    assert secrets_for(owner_id=user.id, names={"api_token"}).unreadable == ("api_token",)
    limit(settings, CREDENTIALS_KEYS=["not-a-fernet-key"])
    loaded = secrets_for(owner_id=user.id, names={"api_token", "absent"})
    assert (loaded, loaded.unreadable, loaded.missing) == ({}, ("api_token",), ("absent",))


def test_values_stored_before_a_key_was_set_stay_readable(auth_client, user, settings) -> None:
    """The README's advice, followed late: set your own key in production. What was stored
    under the key derived from SECRET_KEY is still read, and re-encryption moves it."""
    limit(settings, CREDENTIALS_KEYS=[])
    create_credential(auth_client)
    own_key = Fernet.generate_key().decode()
    limit(settings, CREDENTIALS_KEYS=[own_key])
    assert secrets_for(owner_id=user.id, names={"api_token"}) == {"api_token": SECRET}

    assert credential_reencrypt_all() == (1, [])

    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40  # now only the configured key can read it
    assert secrets_for(owner_id=user.id, names={"api_token"}) == {"api_token": SECRET}


def test_a_malformed_key_stops_the_start_and_reencryption_reports_what_it_cannot_read(auth_client, user, settings):
    from credentials_app.checks import check_credentials_key

    limit(settings, CREDENTIALS_KEYS=["not-a-fernet-key"])
    [error] = check_credentials_key()
    assert error.id == "config.E002"
    limit(settings, CREDENTIALS_KEYS=[Fernet.generate_key().decode()])
    assert check_credentials_key() == []
    create_credential(auth_client)
    stray = Credential.objects.get(owner=user)
    Credential.objects.filter(id=stray.id).update(encrypted_value=Fernet(Fernet.generate_key()).encrypt(b"x").decode())
    assert credential_reencrypt_all() == (0, [stray.id])


@pytest.mark.server
@pytest.mark.worker_thread
def test_an_unreadable_credential_fails_the_node_saying_so(
    celery_worker, make_workflow, run, auth_client, server, settings
):
    limit(settings, CREDENTIALS_KEYS=[Fernet.generate_key().decode()])
    create_credential(auth_client)
    limit(settings, CREDENTIALS_KEYS=[Fernet.generate_key().decode()])  # not the key it was written under
    execution = run(secret_workflow(make_workflow, server.url("/echo"))).json()
    call = nodes_by_id(execution)["call"]
    assert call["error"]["code"] == "credential_unreadable"
    assert "api_token" in call["error"]["message"]
    assert server.total_hits == 0


@pytest.mark.server
@pytest.mark.worker_thread
def test_secrets_reach_the_server_but_never_come_back(celery_worker, make_workflow, run, auth_client, server, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):  # quiet by default (settings.LOGGING)
        caplog.set_level(logging.DEBUG, logger=name)
    create_credential(auth_client)
    workflow_id = secret_workflow(make_workflow, server.url("/echo"))
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    received = server.requests[0]
    assert received["headers"]["authorization"] == f"Bearer {SECRET}"
    assert received["query"] == {"key": SECRET}
    assert json.loads(received["body"])["token"] == SECRET
    echo = execution["outputs"]["result"]["json"]
    assert echo["headers"]["authorization"] == "Bearer [redacted]"
    assert echo["query"] == {"key": "[redacted]"}
    assert echo["path"] == "/echo"
    full = auth_client.get(f"/api/executions/{execution['id']}").content.decode()
    logs = auth_client.get(f"/api/executions/{execution['id']}/logs").content.decode()
    stored = json.dumps(list(NodeRun.objects.filter(execution_id=execution["id"]).values("output", "error")))
    assert "httpcore" in caplog.text  # lines logged in the worker, during the call, are captured too
    for text in (full, logs, stored, caplog.text, json.dumps(execution)):
        assert SECRET not in text
        assert "sk-live-Zq9" not in text  # nor an encoded form


@pytest.mark.server
@pytest.mark.worker_thread
def test_secrets_in_an_error_message_are_redacted(
    celery_worker, make_workflow, run, auth_client, server, caplog
) -> None:
    create_credential(auth_client)
    workflow_id = secret_workflow(make_workflow, server.url("/echo-auth-error"))
    execution = run(workflow_id).json()
    call = nodes_by_id(execution)["call"]
    assert call["error"]["code"] == "http_status"
    assert "bad token Bearer [redacted]" in call["error"]["message"]
    assert "sk-live-Zq9" not in json.dumps(execution) + caplog.text


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_missing_credential_fails_the_node_naming_it(celery_worker, make_workflow, run, server) -> None:
    workflow_id = secret_workflow(make_workflow, server.url("/echo"))
    execution = run(workflow_id).json()
    call = nodes_by_id(execution)["call"]
    assert execution["status"] == "failed"
    assert call["error"]["code"] == "credential_missing"
    assert "api_token" in call["error"]["message"]
    assert server.total_hits == 0


@pytest.mark.server
@pytest.mark.worker_thread
def test_another_users_credential_is_not_used(celery_worker, make_workflow, run, server) -> None:
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    create_credential(stranger)
    workflow_id = secret_workflow(make_workflow, server.url("/echo"))
    assert nodes_by_id(run(workflow_id).json())["call"]["error"]["code"] == "credential_missing"


@pytest.mark.parametrize(
    ("node_type", "config"),
    [
        ("TRANSFORM", {"value": "{{ secrets.api_token }}"}),
        ("HTTP_REQUEST", {"url": "https://example.com/{{ secrets.api_token }}"}),
        ("DATABASE", {"operation": "insert", "collection": "c", "document": {"k": "{{ secrets.api_token }}"}}),
        ("AI_PROCESSOR", {"task_type": "quick_decision", "prompt": "{{ secrets.api_token }}"}),
        ("CONDITION", {"expression": "secrets.api_token == 'x'"}),
    ],
)
def test_secrets_are_refused_outside_http_headers_query_and_body(auth_client, node_type, config) -> None:
    nodes = [input_node(), node("uses", node_type, config), node("result", "OUTPUT", {"value": 1})]
    edges = [edge("start", "uses"), edge("uses", "result", "true" if node_type == "CONDITION" else None)]
    output = auth_client.post(
        "/api/workflows/validate", {"definition": {"nodes": nodes, "edges": edges}}, format="json"
    )
    assert output.status_code == 400
    codes = [problem["code"] for problem in output.json()["error"]["details"]]
    assert codes == ["secret_not_allowed"]
    in_output = [input_node(), node("result", "OUTPUT", {"value": "{{ secrets.api_token }}"})]
    refused = auth_client.post(
        "/api/workflows/validate",
        {"definition": {"nodes": in_output, "edges": [edge("start", "result")]}},
        format="json",
    )
    assert [p["code"] for p in refused.json()["error"]["details"]] == ["secret_not_allowed"]


def test_the_admin_shows_credentials_without_their_values(auth_client, user) -> None:
    credential = create_credential(auth_client).json()
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    stored = Credential.objects.get(id=credential["id"]).encrypted_value
    for url in ("/admin/credentials_app/credential/", f"/admin/credentials_app/credential/{credential['id']}/change/"):
        page = browser.get(url)
        assert page.status_code == 200
        assert b"api_token" in page.content
        assert SECRET.encode() not in page.content and stored.encode() not in page.content
