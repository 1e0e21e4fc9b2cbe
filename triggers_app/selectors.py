"""Reads on triggers: always the caller's own (another user's trigger is a 404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery

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


# --- for the dashboard: `owner_id=None` is the whole platform ------------------------------


def upcoming_schedules(*, owner_id: Any | None, limit: int = 10) -> list[Schedule]:
    """The schedules that fire next (paused and stopped ones have no next fire time)."""
    found = Schedule.objects.filter(next_fire_at__isnull=False, workflow__archived_at__isnull=True)
    if owner_id is not None:
        found = found.filter(owner_id=owner_id)
    return list(found.select_related("workflow", "owner").order_by("next_fire_at")[:limit])


def webhooks_with_last_delivery(
    *, owner_id: Any | None, limit: int = 20
) -> list[tuple[WebhookTrigger, Delivery | None]]:
    """Live hooks, most recently called first, each with its last delivery (or None): one
    query for the hooks, one for their newest deliveries."""
    hooks = WebhookTrigger.objects.filter(revoked_at__isnull=True)
    if owner_id is not None:
        hooks = hooks.filter(owner_id=owner_id)
    newest = Delivery.objects.filter(trigger_id=OuterRef("pk")).order_by("-received_at")
    found = list(
        hooks.annotate(
            last_delivery_id=Subquery(newest.values("id")[:1]), last_received=Subquery(newest.values("received_at")[:1])
        )
        .select_related("workflow", "owner")
        .order_by(F("last_received").desc(nulls_last=True), "-created_at")[:limit]
    )
    deliveries = Delivery.objects.in_bulk([hook.last_delivery_id for hook in found if hook.last_delivery_id])
    return [(hook, deliveries.get(hook.last_delivery_id)) for hook in found]


@dataclass(frozen=True)
class FailingTrigger:
    kind: str  # "webhook" or "schedule"
    id: Any
    name: str
    workflow_name: str
    owner: str
    reason: str
    at: datetime | None


def failing_triggers(*, owner_id: Any | None, since: datetime, limit: int = 20) -> list[FailingTrigger]:
    """Schedules that stopped or whose ticks failed, and hooks whose deliveries were
    refused (other than for a wrong token, which reaches no hook) or whose runs failed,
    since `since`."""
    failing: list[FailingTrigger] = []
    schedules = Schedule.objects.select_related("workflow", "owner")
    hooks = WebhookTrigger.objects.filter(revoked_at__isnull=True).select_related("workflow", "owner")
    if owner_id is not None:
        schedules, hooks = schedules.filter(owner_id=owner_id), hooks.filter(owner_id=owner_id)
    stopped = schedules.filter(Q(stopped_reason__gt="") | Q(workflow__archived_at__isnull=False, is_paused=False))
    for schedule in stopped[:limit]:
        failing.append(_failing("schedule", schedule, schedule_stop_reason(schedule), schedule.updated_at))
    failed_ticks = (
        ScheduleTick.objects.filter(schedule__in=schedules, outcome="failed", recorded_at__gte=since)
        .values("schedule_id")
        .annotate(count=Count("id"), last=Max("recorded_at"))
    )
    by_id = {row["schedule_id"]: row for row in failed_ticks[:limit]}
    for schedule in schedules.filter(id__in=by_id).exclude(id__in=[f.id for f in failing]):
        row = by_id[schedule.id]
        failing.append(_failing("schedule", schedule, f"{row['count']} failed tick(s)", row["last"]))
    refused = (
        Delivery.objects.filter(trigger__in=hooks, received_at__gte=since)
        .filter(Q(response_status__gte=400) | Q(execution__status="failed"))
        .values("trigger_id")
        .annotate(count=Count("id"), last=Max("received_at"))
    )
    by_hook = {row["trigger_id"]: row for row in refused[:limit]}
    for hook in hooks.filter(id__in=by_hook):
        hook_row = by_hook[hook.id]
        reason = f"{hook_row['count']} refused or failed deliveries"
        failing.append(_failing("webhook", hook, reason, hook_row["last"]))
    return sorted(failing, key=lambda f: f.at or since, reverse=True)[:limit]


def _failing(kind: str, trigger: Any, reason: str, at: datetime | None) -> FailingTrigger:
    return FailingTrigger(kind, trigger.id, trigger.name, trigger.workflow.name, trigger.owner.username, reason, at)
