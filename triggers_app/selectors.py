"""Reads on triggers: always the caller's own (another user's trigger is a 404)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from core.api import NotFound
from triggers_app.models import Delivery, Schedule, ScheduleTick, WebhookTrigger


def webhook_list(*, user: Any, workflow_id: Any = None) -> QuerySet[WebhookTrigger]:
    found = WebhookTrigger.objects.filter(owner=user)
    return found.filter(workflow_id=workflow_id) if workflow_id else found


def webhook_get(*, user: Any, trigger_id: Any) -> WebhookTrigger:
    try:
        return WebhookTrigger.objects.select_related("workflow").get(owner=user, pk=trigger_id)
    except (WebhookTrigger.DoesNotExist, ValueError, ValidationError):
        raise NotFound("Webhook trigger not found.") from None


def delivery_list(*, trigger: WebhookTrigger) -> QuerySet[Delivery]:
    return Delivery.objects.filter(trigger=trigger).order_by("-received_at")


def delivery_get(*, trigger: WebhookTrigger, delivery_id: Any) -> Delivery:
    try:
        return Delivery.objects.get(trigger=trigger, pk=delivery_id)
    except (Delivery.DoesNotExist, ValueError, ValidationError):
        raise NotFound("Delivery not found.") from None


def schedule_list(*, user: Any, workflow_id: Any = None) -> QuerySet[Schedule]:
    found = Schedule.objects.filter(owner=user).select_related("workflow")
    return found.filter(workflow_id=workflow_id) if workflow_id else found


def schedule_get(*, user: Any, schedule_id: Any) -> Schedule:
    try:
        return Schedule.objects.select_related("workflow").get(owner=user, pk=schedule_id)
    except (Schedule.DoesNotExist, ValueError, ValidationError):
        raise NotFound("Schedule not found.") from None


def tick_list(*, schedule: Schedule) -> QuerySet[ScheduleTick]:
    return ScheduleTick.objects.filter(schedule=schedule).order_by("-scheduled_at", "-id")


def schedule_state(schedule: Schedule) -> str:
    """`active`, `paused` or `stopped` (its workflow archived or inactive: it says why)."""
    workflow = schedule.workflow
    if schedule.stopped_reason or workflow.archived_at is not None or not workflow.is_active:
        return "stopped"
    return "paused" if schedule.is_paused else "active"


def schedule_stop_reason(schedule: Schedule) -> str:
    if schedule.stopped_reason:
        return schedule.stopped_reason
    if schedule.workflow.archived_at is not None:
        return "The workflow was archived."
    if not schedule.workflow.is_active:
        return "The workflow is inactive."
    return ""
