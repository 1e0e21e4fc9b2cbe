"""What the owner sends from the API: a test delivery and a replay of a logged one."""

from __future__ import annotations

import pytest

from core.api import Conflict
from tests.support.hooks import make_hook
from triggers_app.models import Delivery
from triggers_app.webhooks.ingest import deliver_replay, deliver_test

pytestmark = pytest.mark.django_db


def test_a_test_delivery_runs_the_workflow_without_a_signature(user):
    hook = make_hook(user)

    delivery = deliver_test(hook.trigger, {"text": "from the owner"})

    assert (delivery.source, delivery.response_status) == ("test", 202)
    (execution,) = hook.executions()
    assert delivery.execution_id == execution.id
    assert execution.inputs == {"text": "from the owner"}


def test_a_test_delivery_the_workflow_refuses_is_logged_with_why(user):
    hook = make_hook(user)

    delivery = deliver_test(hook.trigger, {"nope": 1})

    assert (delivery.response_status, delivery.error_code, delivery.execution_id) == (400, "validation_error", None)
    assert hook.executions() == []


def test_a_replay_maps_the_logged_request_again_into_a_new_execution(user):
    hook = make_hook(user, input_mapping={"text": "{{ body.message }}!"})
    first = Delivery.objects.get(id=hook.post({"message": "hi"}, **{"Idempotency-Key": "once"}).json()["delivery_id"])
    hook.trigger.input_mapping = {"text": "{{ body.message }}?"}
    hook.trigger.save()

    replay = deliver_replay(first)

    assert (replay.source, replay.response_status, replay.dedup_key) == ("replay", 202, None)
    assert [e.inputs for e in hook.executions()] == [{"text": "hi!"}, {"text": "hi?"}]


def test_a_delivery_refused_before_its_body_was_read_cannot_be_replayed(user):
    hook = make_hook(user)
    hook.post({"text": "hi"}, signed=False)
    refused = Delivery.objects.get(trigger=hook.trigger)

    with pytest.raises(Conflict) as caught:
        deliver_replay(refused)

    assert caught.value.code == "not_replayable"
