"""The dashboard's triggers panel: upcoming scheduled runs, each hook's last delivery and
the triggers that failed, a user's own or, for staff, the platform's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.factories import UserFactory, WorkflowFactory
from triggers_app.models import Delivery, ScheduleTick, TickOutcome
from triggers_app.schedules.services import schedule_create
from triggers_app.webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


def test_the_panel_shows_what_fires_next_the_last_deliveries_and_what_fails(auth_client, staff_client, user) -> None:
    workflow = WorkflowFactory(owner=user, name="orders")
    soon = schedule_create(user=user, workflow_id=workflow.id, name="soon", interval_s=5)
    later = schedule_create(user=user, workflow_id=workflow.id, name="later", cron="@daily")
    broken = schedule_create(user=user, workflow_id=workflow.id, name="broken", cron="@hourly")
    ScheduleTick.objects.create(
        schedule=broken, scheduled_at=timezone.now(), outcome=TickOutcome.FAILED, detail="inputs invalid"
    )
    quiet, _, _ = webhook_create(user=user, workflow_id=workflow.id, name="quiet")
    busy, _, _ = webhook_create(user=user, workflow_id=workflow.id, name="busy")
    Delivery.objects.create(trigger=busy, response_status=202, latency_ms=4)
    refused = Delivery.objects.create(trigger=busy, response_status=401, error_code="signature_invalid")
    Delivery.objects.filter(pk=refused.pk).update(received_at=timezone.now() + timedelta(seconds=1))

    other = UserFactory()
    schedule_create(user=other, workflow_id=WorkflowFactory(owner=other).id, name="someone else's", cron="@daily")

    mine = auth_client.get("/api/dashboard/triggers").json()
    assert mine["scope"] == "user"
    in_fire_order = [s.name for s in sorted((soon, later, broken), key=lambda s: s.next_fire_at)]
    assert [s["name"] for s in mine["upcoming"]] == in_fire_order  # the next to fire first
    hooks = {hook["name"]: hook for hook in mine["webhooks"]}
    assert list(hooks) == ["busy", "quiet"]  # most recently called first
    assert hooks["busy"]["last_delivery"]["response_status"] == 401
    assert hooks["busy"]["last_delivery"]["error_code"] == "signature_invalid"
    assert hooks["quiet"]["last_delivery"] is None
    failing = {(f["kind"], f["name"]): f["reason"] for f in mine["failing"]}
    assert failing == {
        ("schedule", "broken"): "1 failed tick(s)",
        ("webhook", "busy"): "1 refused or failed deliveries",
    }
    assert quiet.id

    platform = staff_client.get("/api/dashboard/triggers").json()
    assert platform["scope"] == "platform"
    assert "someone else's" in {s["name"] for s in platform["upcoming"]}


def test_an_archived_workflows_schedule_is_listed_as_failing_not_upcoming(auth_client, user) -> None:
    workflow = WorkflowFactory(owner=user)
    schedule_create(user=user, workflow_id=workflow.id, name="orphan", cron="@daily")
    assert auth_client.delete(f"/api/workflows/{workflow.id}").status_code == 204
    report = auth_client.get("/api/dashboard/triggers").json()
    assert report["upcoming"] == []
    assert [(f["name"], f["reason"]) for f in report["failing"]] == [("orphan", "The workflow was archived.")]
