"""Sync hooks: the sender gets the outputs when the run ends within the hook's wait (a
real worker runs it), the owner's response template, a failure as a 200, and past the
wait, or beyond the wait caps, a 202 whose status URL answers."""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client
from django_redis import get_redis_connection

from tests.support.definitions import edge, input_node, node
from tests.support.hooks import make_hook
from tests.support.workers import wait_for
from triggers_app.models import Delivery
from triggers_app.webhooks.limits import owner_waits_key


def limits(settings, **values) -> None:
    settings.SWITCHBOARD = dataclasses.replace(settings.SWITCHBOARD, **values)


@pytest.mark.django_db
def test_past_its_wait_a_sync_delivery_answers_202_with_a_status_url_that_answers(user):
    # No worker runs here: the execution stays queued past the wait.
    hook = make_hook(user, mode="sync", sync_timeout_s=0.2)

    response = hook.post({"text": "hi"})

    assert response.status_code == 202, response.content
    answer = response.json()
    (execution,) = hook.executions()
    assert answer["execution_id"] == str(execution.id)
    status = Client().get(answer["status_url"])
    assert status.status_code == 200
    assert status.json()["execution_id"] == str(execution.id)
    assert status.json()["status"] == "queued"
    assert Delivery.objects.get(id=answer["delivery_id"]).response_status == 202


@pytest.mark.django_db
@pytest.mark.parametrize("cap", ["process", "owner"])
def test_beyond_the_wait_caps_a_sync_delivery_answers_202_at_once(user, settings, cap):
    hook = make_hook(user, mode="sync", sync_timeout_s=30)
    if cap == "process":
        limits(settings, hook_sync_waits_per_process=0)
    else:
        limits(settings, hook_sync_waits_per_owner=1)
        get_redis_connection("default").zadd(owner_waits_key(user.id), {"held-by-another": 4102444800000})

    # A 30 s wait with no worker would hold the test for 30 s: the 202 comes at once.
    response = hook.post({"text": "hi"})

    assert response.status_code == 202
    assert len(hook.executions()) == 1


ECHO = {"text": {"type": "string", "required": True}}


@pytest.mark.worker_thread
@pytest.mark.django_db(transaction=True)
def test_a_sync_delivery_answers_with_the_outputs(user, celery_worker):
    hook = make_hook(user, mode="sync", sync_timeout_s=20)

    response = hook.post({"text": "hi"})

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["status"] == "completed"
    assert answer["outputs"] == {"result": {"echo": "hi"}}
    assert answer["execution_id"] == str(hook.executions()[0].id)
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert Delivery.objects.get(id=answer["delivery_id"]).response_status == 200


@pytest.mark.worker_thread
@pytest.mark.django_db(transaction=True)
def test_a_sync_delivery_answers_with_the_owners_template(user, celery_worker):
    template = {
        "status": 201,
        "content_type": "text",
        "body": "got {{ outputs.result.echo }} for {{ body.text }} ({{ execution.status }})",
        "headers": {"X-Request-Id": "abc"},
    }
    hook = make_hook(user, mode="sync", sync_timeout_s=20, response_template=template)

    response = hook.post({"text": "hi"})

    assert response.status_code == 201, response.content
    assert response.content == b"got hi for hi (completed)"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Request-Id"] == "abc"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.worker_thread
@pytest.mark.django_db(transaction=True)
def test_a_failed_run_is_a_200_saying_so_never_a_5xx(user, celery_worker):
    definition = {
        "nodes": [
            input_node(**ECHO),
            node("boom", "TRANSFORM", {"value": "{{ 1 // 0 }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.boom.output }}"}),
        ],
        "edges": [edge("start", "boom"), edge("boom", "result")],
    }
    hook = make_hook(user, definition=definition, mode="sync", sync_timeout_s=20, response_template={"body": "ok"})

    response = hook.post({"text": "hi"})

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["status"] == "failed"
    assert answer["error"]
    status = Client().get(f"/hooks/{hook.token}/deliveries/{answer['delivery_id']}").json()
    assert status["status"] == "failed"
    assert status["error"] == answer["error"]


@pytest.mark.worker_thread
@pytest.mark.django_db(transaction=True)
def test_the_status_url_shows_the_outputs_once_the_run_ends(user, celery_worker):
    hook = make_hook(user)
    url = hook.post({"text": "later"}).json()["status_url"]

    status = wait_for(lambda: (s := Client().get(url).json())["status"] == "completed" and s)

    assert status["outputs"] == {"result": {"echo": "later"}}
