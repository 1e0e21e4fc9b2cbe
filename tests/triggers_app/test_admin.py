"""The triggers admin: hooks and schedules read and act through the same services as the
API; a hook's token and secret never appear on its pages."""

from __future__ import annotations

import pytest

from executions_app.services import execution_create
from tests.support.definitions import edge, input_node, node
from tests.support.factories import WorkflowFactory
from triggers_app.models import Delivery, Schedule, ScheduleTick, TickOutcome
from triggers_app.schedules.services import schedule_create
from triggers_app.webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(admin_user):
    return WorkflowFactory(owner=admin_user)


def test_a_hooks_page_shows_its_deliveries_but_never_its_token_or_secret(admin_client, admin_user, workflow) -> None:
    trigger, token, secret = webhook_create(user=admin_user, workflow_id=workflow.id, name="orders")
    execution, _ = execution_create(
        user=admin_user, workflow_id=workflow.id, inputs={"text": "hi"}, trigger=f"webhook:{trigger.id}"
    )
    Delivery.objects.create(trigger=trigger, execution=execution, body_preview='{"order": 7}', latency_ms=12)

    listing = admin_client.get("/admin/triggers_app/webhooktrigger/").content.decode()
    assert "orders" in listing and trigger.token_prefix in listing
    page = admin_client.get(f"/admin/triggers_app/webhooktrigger/{trigger.pk}/change/").content.decode()
    assert str(execution.id) in page and "{&quot;order&quot;: 7}" in page
    assert token not in page and secret not in page and trigger.token_hash not in page
    assert trigger.encrypted_secret not in page

    executions = admin_client.get("/admin/executions_app/execution/?trigger_kind=webhook").content.decode()
    assert str(execution.id) in executions and f"webhook:{trigger.id}" in executions


def test_revoking_from_the_admin_revokes(admin_client, admin_user, workflow) -> None:
    trigger, _, _ = webhook_create(user=admin_user, workflow_id=workflow.id, name="orders")
    response = admin_client.post(
        "/admin/triggers_app/webhooktrigger/", {"action": "revoke", "_selected_action": [str(trigger.pk)]}
    )
    assert response.status_code == 302
    trigger.refresh_from_db()
    assert trigger.revoked_at is not None


def test_a_schedules_page_shows_its_ticks_and_edits_go_through_the_checks(admin_client, admin_user, workflow) -> None:
    schedule = schedule_create(user=admin_user, workflow_id=workflow.id, name="nightly", cron="30 2 * * *")
    ScheduleTick.objects.create(
        schedule=schedule, scheduled_at=schedule.next_fire_at, outcome=TickOutcome.MISSED, count=3
    )
    page = admin_client.get(f"/admin/triggers_app/schedule/{schedule.pk}/change/").content.decode()
    assert "missed" in page and "active" in page

    url = f"/admin/triggers_app/schedule/{schedule.pk}/change/"
    form = {
        "name": "nightly",
        "cron": "99 * * * *",
        "timezone": "UTC",
        "inputs": "{}",
        "overlap": "skip",
        "catch_up": "skip_missed",
        "misfire_grace_s": "60",
    }
    refused = admin_client.post(url, form)
    assert refused.status_code == 200 and "Not a cron expression" in refused.content.decode()
    assert Schedule.objects.get(pk=schedule.pk).cron == "30 2 * * *"

    saved = admin_client.post(url, {**form, "cron": "@hourly"})
    assert saved.status_code == 302
    changed = Schedule.objects.get(pk=schedule.pk)
    assert changed.cron == "@hourly" and changed.next_fire_at.minute == 0

    admin_client.post("/admin/triggers_app/schedule/", {"action": "pause", "_selected_action": [str(schedule.pk)]})
    assert Schedule.objects.get(pk=schedule.pk).is_paused


def test_admin_actions_send_a_test_delivery_and_run_a_schedule_now(admin_client, admin_user) -> None:
    # No required input: the action's test delivery is an empty body.
    definition = {"nodes": [input_node(), node("result", "OUTPUT", {"value": 1})], "edges": [edge("start", "result")]}
    workflow = WorkflowFactory(owner=admin_user, definition=definition)
    trigger, _, _ = webhook_create(user=admin_user, workflow_id=workflow.id, name="orders")
    page = admin_client.post(
        "/admin/triggers_app/webhooktrigger/",
        {"action": "send_test", "_selected_action": [str(trigger.pk)]},
        follow=True,
    ).content.decode()
    delivery = Delivery.objects.get(trigger=trigger)
    assert delivery.source == "test" and f"execution {delivery.execution_id}" in page

    schedule = schedule_create(user=admin_user, workflow_id=workflow.id, name="nightly", cron="@daily")
    page = admin_client.post(
        "/admin/triggers_app/schedule/", {"action": "run_now", "_selected_action": [str(schedule.pk)]}, follow=True
    ).content.decode()
    tick = ScheduleTick.objects.get(schedule=schedule)
    assert tick.outcome == TickOutcome.FIRED and f"started execution {tick.execution_id}" in page
