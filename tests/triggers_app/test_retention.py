"""Deliveries and ticks are kept as long as executions, then pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.factories import WorkflowFactory
from triggers_app.models import Delivery, ScheduleTick, TickOutcome
from triggers_app.retention import prune_old_trigger_logs
from triggers_app.schedules.services import schedule_create
from triggers_app.webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


def test_logs_past_the_retention_go_and_newer_ones_stay(user, settings) -> None:
    workflow = WorkflowFactory(owner=user)
    hook, _, _ = webhook_create(user=user, workflow_id=workflow.id, name="h")
    schedule = schedule_create(user=user, workflow_id=workflow.id, name="s", cron="@daily")
    days = settings.SWITCHBOARD.execution_retention_days
    old, new = timezone.now() - timedelta(days=days + 1), timezone.now() - timedelta(days=days - 1)
    for when in (old, new):
        delivery = Delivery.objects.create(trigger=hook)
        Delivery.objects.filter(pk=delivery.pk).update(received_at=when)
        tick = ScheduleTick.objects.create(schedule=schedule, scheduled_at=when, outcome=TickOutcome.FIRED)
        ScheduleTick.objects.filter(pk=tick.pk).update(recorded_at=when)

    assert prune_old_trigger_logs(batch=1) == 2
    assert [d.received_at for d in Delivery.objects.all()] == [new]
    assert [t.recorded_at for t in ScheduleTick.objects.all()] == [new]
