"""The owner's triggers API: webhooks (token and secret shown once, rotation, revoke) and
schedules (validation, next fire times, edits, pause and resume, a stopped workflow)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts_app.tokens import refresh_token_for
from tests.support.api import bearer_client
from tests.support.definitions import echo_definition
from tests.support.factories import UserFactory
from triggers_app.models import Schedule, WebhookTrigger
from triggers_app.webhooks.tokens import hash_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow_id(make_workflow) -> str:
    definition = echo_definition()
    return make_workflow(definition["nodes"], definition["edges"])


def _parsed(times: list[str]) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times]


def test_a_new_hook_shows_its_token_url_and_secret_once(auth_client, workflow_id) -> None:
    made = auth_client.post(
        "/api/triggers/webhooks",
        {"workflow_id": workflow_id, "name": "orders", "input_mapping": {"text": "{{ body.order.id }}"}},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    token, secret = body["token"], body["secret"]
    assert body["url"].endswith(f"/hooks/{token}") and body["url"].startswith("http")
    assert secret.startswith("whsec_") and body["has_secret"] and body["require_signature"]
    assert body["state"] == "active" and token.startswith(body["token_prefix"])

    stored = WebhookTrigger.objects.get(pk=body["id"])
    assert stored.token_hash == hash_token(token) and token not in str(stored.__dict__)
    assert secret not in stored.encrypted_secret

    again = auth_client.get(f"/api/triggers/webhooks/{body['id']}").json()
    assert "token" not in again and "secret" not in again and "url" not in again
    listed = auth_client.get(f"/api/triggers/webhooks?workflow={workflow_id}").json()
    assert [hook["id"] for hook in listed["results"]] == [body["id"]]
    assert token not in str(listed) and secret not in str(listed)


def test_a_hook_with_a_broken_mapping_or_response_is_refused_naming_the_field(auth_client, workflow_id) -> None:
    broken = auth_client.post(
        "/api/triggers/webhooks",
        {"workflow_id": workflow_id, "name": "x", "input_mapping": {"text": "{{ body.order. }}"}},
        format="json",
    )
    assert broken.status_code == 400 and "input_mapping" in broken.json()["error"]["details"]
    cookie = auth_client.post(
        "/api/triggers/webhooks",
        {"workflow_id": workflow_id, "name": "x", "response_template": {"headers": {"Set-Cookie": "a=b"}}},
        format="json",
    )
    assert cookie.status_code == 400 and "Set-Cookie" in str(cookie.json()["error"]["details"])
    html = auth_client.post(
        "/api/triggers/webhooks",
        {"workflow_id": workflow_id, "name": "x", "response_template": {"content_type": "html"}},
        format="json",
    )
    assert html.status_code == 400
    assert WebhookTrigger.objects.count() == 0


def test_rotating_keeps_the_old_token_for_the_overlap_then_revoke_ends_all(auth_client, workflow_id) -> None:
    hook = auth_client.post("/api/triggers/webhooks", {"workflow_id": workflow_id, "name": "h"}, format="json").json()
    rotated = auth_client.post(f"/api/triggers/webhooks/{hook['id']}/rotate-token", {"overlap_s": 600}, format="json")
    assert rotated.status_code == 200
    new_token = rotated.json()["token"]
    assert new_token != hook["token"] and rotated.json()["previous_token_expires_at"]
    stored = WebhookTrigger.objects.get(pk=hook["id"])
    assert stored.token_hash == hash_token(new_token) and stored.previous_token_hash == hash_token(hook["token"])

    secret = auth_client.post(f"/api/triggers/webhooks/{hook['id']}/rotate-secret", {}, format="json").json()
    assert secret["secret"] != hook["secret"] and secret["previous_secret_expires_at"] is None

    revoked = auth_client.post(f"/api/triggers/webhooks/{hook['id']}/revoke").json()
    assert revoked["state"] == "revoked"
    assert WebhookTrigger.objects.get(pk=hook["id"]).previous_token_hash == ""


def test_a_schedule_shows_its_next_five_fire_times_in_its_timezone(auth_client, workflow_id) -> None:
    made = auth_client.post(
        "/api/triggers/schedules",
        {"workflow_id": workflow_id, "name": "nightly", "cron": "30 2 * * *", "timezone": "Europe/Berlin"},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["state"] == "active" and body["overlap"] == "skip" and body["catch_up"] == "skip_missed"
    times = _parsed(body["next_fire_times"])
    assert len(times) == 5 and times == sorted(times) and len(set(times)) == 5
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in times]
    assert all((t.hour, t.minute) in {(2, 30), (3, 0)} for t in berlin)

    # A new expression recomputes the next fire time from now.
    changed = auth_client.patch(f"/api/triggers/schedules/{body['id']}", {"cron": "@hourly"}, format="json").json()
    hourly = _parsed(changed["next_fire_times"])
    assert all(t.minute == 0 and t.second == 0 for t in hourly)
    assert hourly[1] - hourly[0] == dt.timedelta(hours=1)
    assert Schedule.objects.get(pk=body["id"]).next_fire_at == hourly[0]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * *"}, "cron"),
        ({}, "cron"),
        ({"cron": "@daily", "interval_s": 60}, "cron"),
        ({"cron": "@daily", "timezone": "Mars/Olympus"}, "timezone"),
        ({"interval_s": 0}, "interval_s"),
        ({"cron": "@daily", "inputs": {"text": "{{ trigger.scheduled_at | nope }}"}}, "inputs"),
        ({"cron": "@daily", "overlap": "sometimes"}, "overlap"),
    ],
)
def test_a_schedule_that_cannot_run_is_refused_naming_the_field(auth_client, workflow_id, fields, named) -> None:
    response = auth_client.post(
        "/api/triggers/schedules", {"workflow_id": workflow_id, "name": "s", **fields}, format="json"
    )
    assert response.status_code == 400, response.content
    assert named in response.json()["error"]["details"]
    assert Schedule.objects.count() == 0


def test_pause_resume_and_a_stopped_workflow(auth_client, workflow_id) -> None:
    schedule = auth_client.post(
        "/api/triggers/schedules", {"workflow_id": workflow_id, "name": "s", "interval_s": 60}, format="json"
    ).json()
    paused = auth_client.post(f"/api/triggers/schedules/{schedule['id']}/pause").json()
    assert paused["state"] == "paused" and paused["next_fire_at"] is None and paused["next_fire_times"] == []
    resumed = auth_client.post(f"/api/triggers/schedules/{schedule['id']}/resume").json()
    assert resumed["state"] == "active" and resumed["next_fire_at"]

    assert auth_client.delete(f"/api/workflows/{workflow_id}").status_code == 204  # archives it
    stopped = auth_client.get(f"/api/triggers/schedules/{schedule['id']}").json()
    assert stopped["state"] == "stopped" and "archived" in stopped["stopped_reason"]
    assert stopped["next_fire_times"] == []
    refused = auth_client.post(f"/api/triggers/schedules/{schedule['id']}/resume")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "workflow_inactive"


def test_triggers_are_made_only_on_the_callers_own_workflows(auth_client, workflow_id) -> None:
    stranger = bearer_client(str(refresh_token_for(UserFactory()).access_token))
    for path, extra in (("webhooks", {}), ("schedules", {"cron": "@daily"})):
        response = stranger.post(
            f"/api/triggers/{path}", {"workflow_id": workflow_id, "name": "x", **extra}, format="json"
        )
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert WebhookTrigger.objects.count() == 0 and Schedule.objects.count() == 0


def test_executions_are_filtered_by_what_started_them(auth_client, run, workflow_id) -> None:
    by_api = run(workflow_id, {"text": "a"}, wait=None).json()["id"]
    canceled = auth_client.post(f"/api/executions/{by_api}/cancel").json()
    retry = auth_client.post(f"/api/executions/{canceled['id']}/retry").json()
    assert auth_client.get(f"/api/executions/{by_api}").json()["trigger"] == "api"
    assert retry["trigger"] == "retry"

    def listed(trigger: str) -> list[str]:
        return [e["id"] for e in auth_client.get(f"/api/executions?trigger={trigger}").json()["results"]]

    assert listed("api") == [by_api]
    assert listed("retry") == [retry["id"]]
    assert listed("webhook") == [] and listed("schedule:nothing") == []


def test_the_owner_sends_a_test_delivery_and_replays_it(auth_client, workflow_id) -> None:
    hook = auth_client.post(
        "/api/triggers/webhooks",
        {"workflow_id": workflow_id, "name": "h", "input_mapping": {"text": "{{ body.order.id }}"}},
        format="json",
    ).json()
    sent = auth_client.post(
        f"/api/triggers/webhooks/{hook['id']}/test", {"body": {"order": {"id": "A7"}}}, format="json"
    )
    assert sent.status_code == 201, sent.content
    delivery = sent.json()
    assert delivery["source"] == "test" and delivery["response_status"] == 202
    execution = auth_client.get(f"/api/executions/{delivery['execution_id']}").json()
    assert execution["inputs"] == {"text": "A7"} and execution["trigger"] == f"webhook:{hook['id']}"

    replayed = auth_client.post(f"/api/triggers/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay").json()
    assert replayed["source"] == "replay" and replayed["execution_id"] not in (None, delivery["execution_id"])
    assert auth_client.get(f"/api/executions/{replayed['execution_id']}").json()["inputs"] == {"text": "A7"}

    refused = auth_client.post(f"/api/triggers/webhooks/{hook['id']}/test", {"body": {"order": 1}}, format="json")
    assert refused.status_code == 201 and refused.json()["response_status"] == 400
    assert refused.json()["execution_id"] is None

    log = auth_client.get(f"/api/triggers/webhooks/{hook['id']}/deliveries").json()["results"]
    assert [d["source"] for d in log] == ["test", "replay", "test"]
    listed = auth_client.get(f"/api/executions?trigger=webhook:{hook['id']}").json()["results"]
    assert len(listed) == 2


def test_run_now_starts_one_execution_and_records_the_tick(auth_client, workflow_id) -> None:
    schedule = auth_client.post(
        "/api/triggers/schedules",
        {
            "workflow_id": workflow_id,
            "name": "s",
            "cron": "@daily",
            "inputs": {"text": "at {{ trigger.scheduled_at }}"},
        },
        format="json",
    ).json()
    ran = auth_client.post(f"/api/triggers/schedules/{schedule['id']}/run")
    assert ran.status_code == 201, ran.content
    execution = ran.json()
    assert execution["trigger"] == f"schedule:{schedule['id']}" and execution["inputs"]["text"].startswith("at 20")
    ticks = auth_client.get(f"/api/triggers/schedules/{schedule['id']}/ticks").json()["results"]
    assert [(t["outcome"], t["execution_id"]) for t in ticks] == [("fired", execution["id"])]
    after = auth_client.get(f"/api/triggers/schedules/{schedule['id']}").json()
    assert after["next_fire_at"] == schedule["next_fire_at"] and after["last_execution_id"] == execution["id"]
