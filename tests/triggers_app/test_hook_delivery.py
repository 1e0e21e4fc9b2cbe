"""POST /hooks/<token> as a sender sees it (fast layer: no worker runs, executions stay
queued): what is accepted, what is refused and how, one execution per delivery id, the
delivery log, and token rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.support.hooks import make_hook
from triggers_app.models import Delivery
from triggers_app.webhooks.services import webhook_revoke, webhook_rotate_secret, webhook_rotate_token
from workflows_app.models import Workflow

pytestmark = pytest.mark.django_db

PROTECTIVE = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"}


def assert_protected(response) -> None:
    assert {name: response.headers.get(name) for name in PROTECTIVE} == PROTECTIVE


def test_a_signed_delivery_starts_one_execution_and_says_where_to_follow_it(user):
    hook = make_hook(user)

    response = hook.post({"text": "hello"})

    assert response.status_code == 202, response.content
    answer = response.json()
    (execution,) = hook.executions()
    assert answer["execution_id"] == str(execution.id)
    assert answer["status_url"] == f"/hooks/{hook.token}/deliveries/{answer['delivery_id']}"
    assert execution.inputs == {"text": "hello"}
    assert execution.owner == user
    assert_protected(response)
    status = Client().get(answer["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "queued"
    assert status.json()["execution_id"] == str(execution.id)
    assert_protected(status)
    delivery = Delivery.objects.get(id=answer["delivery_id"])
    assert (delivery.response_status, delivery.execution_id, delivery.source) == (202, execution.id, "http")


def test_an_unsigned_hook_takes_deliveries_without_a_signature_only_when_its_owner_said_so(user):
    hook = make_hook(user, require_signature=False)
    assert hook.secret is None

    assert hook.post({"text": "hi"}, signed=False).status_code == 202
    assert len(hook.executions()) == 1


def test_a_cross_site_post_needs_no_csrf_token_the_token_in_the_url_is_the_credential(user):
    hook = make_hook(user)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert hook.post({"text": "hi"}, client=browser).status_code == 202


@pytest.mark.parametrize("how", ["revoked", "archived", "inactive", "unknown", "malformed"])
def test_a_hook_that_cannot_be_called_answers_the_same_404_as_no_hook(user, how):
    hook = make_hook(user)
    url = hook.url
    if how == "revoked":
        webhook_revoke(trigger=hook.trigger)
    elif how == "archived":
        Workflow.objects.filter(id=hook.trigger.workflow_id).update(archived_at=timezone.now())
    elif how == "inactive":
        Workflow.objects.filter(id=hook.trigger.workflow_id).update(is_active=False)
    elif how == "unknown":
        url = "/hooks/whk_" + "A" * 43
    else:
        url = "/hooks/not-a-token"

    response = Client().post(url, data=b'{"text": "hi"}', content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": None}}
    assert_protected(response)
    assert hook.executions() == []
    assert not Delivery.objects.exists()


def test_a_hook_takes_only_post(user):
    hook = make_hook(user)

    for method in ("get", "put", "delete"):
        response = getattr(Client(), method)(hook.url)
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert response.headers["Allow"] == "POST"
        assert_protected(response)
    assert hook.executions() == []


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-GitHub-Delivery"])
def test_a_retried_delivery_runs_once_and_answers_like_the_first(user, header):
    hook = make_hook(user, delivery_id_header="X-GitHub-Delivery")

    first = hook.post({"text": "hi"}, **{header: "delivery-42"})
    again = hook.post({"text": "hi"}, **{header: "delivery-42"})
    other = hook.post({"text": "hi"}, **{header: "delivery-43"})

    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert again.json()["delivery_id"] == first.json()["delivery_id"]
    assert again.json()["duplicate"] is True
    assert "duplicate" not in first.json()
    assert len(hook.executions()) == 2  # delivery-42 once, delivery-43 once
    logged = Delivery.objects.filter(trigger=hook.trigger).exclude(duplicate_of=None).get()
    assert str(logged.duplicate_of_id) == first.json()["delivery_id"]


def test_a_delivery_id_counts_as_new_after_24_hours(user):
    hook = make_hook(user)
    first = hook.post({"text": "hi"}, **{"Idempotency-Key": "k1"})
    Delivery.objects.filter(id=first.json()["delivery_id"]).update(received_at=timezone.now() - timedelta(hours=25))

    later = hook.post({"text": "hi"}, **{"Idempotency-Key": "k1"})

    assert later.status_code == 202
    assert later.json()["execution_id"] != first.json()["execution_id"]
    assert "duplicate" not in later.json()


def test_a_body_over_the_hooks_cap_is_refused_and_logged(user):
    hook = make_hook(user, max_body_bytes=100)

    response = hook.post({"text": "x" * 200})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert response.json()["error"]["details"] == {"limit_bytes": 100}
    assert hook.executions() == []
    assert Delivery.objects.get(trigger=hook.trigger).response_status == 413


def test_past_its_rate_limit_a_hook_answers_429_with_retry_after(user):
    hook = make_hook(user, rate_limit_per_minute=2)

    answers = [hook.post({"text": str(n)}) for n in range(3)]

    assert [a.status_code for a in answers[:2]] == [202, 202]
    refused = answers[2]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json()["error"]["details"] == {"retry_after_s": retry_after}
    assert_protected(refused)
    assert len(hook.executions()) == 2
    assert Delivery.objects.filter(trigger=hook.trigger, response_status=429, error_code="throttled").count() == 1


def test_the_delivery_log_keeps_a_preview_without_secrets(user):
    hook = make_hook(user, exposed_headers=["x-shop"])

    hook.post(
        {"text": "hi", "password": "hunter2", "nested": {"api_key": "sk-123"}},
        **{"Authorization": "Bearer abc", "Cookie": "sessionid=zzz", "X-Shop": "north", "X-Api-Token": "t0k"},
    )

    logged = Delivery.objects.get(trigger=hook.trigger)
    preview = logged.headers_preview
    for name in ("authorization", "cookie", "x-switchboard-signature", "x-api-token"):
        assert preview[name] == "[redacted]", name
    assert preview["x-shop"] == "north"
    assert "hunter2" not in logged.body_preview
    assert "sk-123" not in logged.body_preview
    assert '"text": "hi"' in logged.body_preview
    assert logged.request == {
        "body": {"text": "hi", "password": "hunter2", "nested": {"api_key": "sk-123"}},
        "query": {},
        "headers": {"x-shop": "north"},
    }
    assert logged.latency_ms >= 0


def test_a_rotated_token_keeps_working_during_its_overlap_and_then_stops(user):
    hook = make_hook(user)
    old = hook.token
    trigger, new = webhook_rotate_token(trigger=hook.trigger, overlap_s=600)

    hook.token = old
    assert hook.post({"text": "old"}).status_code == 202
    hook.token = new
    assert hook.post({"text": "new"}).status_code == 202

    trigger.previous_token_expires_at = timezone.now() - timedelta(seconds=1)
    trigger.save()
    hook.token = old
    assert hook.post({"text": "old again"}).status_code == 404
    hook.token = new
    assert hook.post({"text": "new again"}).status_code == 202


def test_a_rotated_secret_keeps_signing_during_its_overlap_and_then_stops(user):
    hook = make_hook(user)
    old_secret = hook.secret
    trigger, new_secret = webhook_rotate_secret(trigger=hook.trigger, overlap_s=600)

    assert hook.post({"text": "old"}).status_code == 202  # still signed with the old secret
    hook.secret = new_secret
    assert hook.post({"text": "new"}).status_code == 202

    trigger.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    trigger.save()
    hook.secret = old_secret
    refused = hook.post({"text": "old again"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "signature_invalid"


def test_a_delivery_is_followed_only_with_its_own_hooks_token(user):
    hook, other = make_hook(user), make_hook(user)
    delivery_id = hook.post({"text": "hi"}).json()["delivery_id"]

    assert Client().get(f"/hooks/{hook.token}/deliveries/{delivery_id}").status_code == 200
    wrong = Client().get(f"/hooks/{other.token}/deliveries/{delivery_id}")
    assert wrong.status_code == 404
    assert wrong.json()["error"]["code"] == "not_found"
    assert Client().get(f"/hooks/{hook.token}/deliveries/not-a-uuid").status_code == 404
    assert Client().post(f"/hooks/{hook.token}/deliveries/{delivery_id}").status_code == 405


def test_the_platforms_body_cap_holds_under_a_hooks_larger_one(user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    hook = make_hook(user, max_body_bytes=1024 * 1024)

    response = hook.post({"text": "x" * 100})

    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"limit_bytes": 64}
    assert hook.executions() == []


def test_a_bare_post_without_a_body_is_an_empty_object(user):
    hook = make_hook(user, require_signature=False, input_mapping={"text": "ping"})

    response = Client().generic("POST", hook.url)  # as `curl -X POST <url>` sends it

    assert response.status_code == 202, response.content
    assert hook.executions()[0].inputs == {"text": "ping"}
