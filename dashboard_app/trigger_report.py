"""The dashboard's triggers panel: the schedules that fire next, each live hook with its
last delivery, and the triggers that need a look (stopped schedules, failed ticks,
refused or failed deliveries in the last 24 h). Scoped like the other reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from dashboard_app.reports import scope_owner
from triggers_app import selectors


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def triggers_report(*, user: Any) -> dict[str, Any]:
    owner_id, now = scope_owner(user), timezone.now()
    return {
        "scope": "platform" if owner_id is None else "user",
        "generated_at": now.isoformat(),
        "upcoming": [
            {
                "id": str(schedule.id),
                "name": schedule.name,
                "workflow_name": schedule.workflow.name,
                "owner": schedule.owner.username,
                "when": schedule.cron or f"every {schedule.interval_s} s",
                "timezone": schedule.timezone,
                "next_fire_at": _iso(schedule.next_fire_at),
            }
            for schedule in selectors.upcoming_schedules(owner_id=owner_id)
        ],
        "webhooks": [
            {
                "id": str(hook.id),
                "name": hook.name,
                "workflow_name": hook.workflow.name,
                "owner": hook.owner.username,
                "mode": hook.mode,
                "last_delivery": None
                if delivery is None
                else {
                    "received_at": _iso(delivery.received_at),
                    "response_status": delivery.response_status,
                    "error_code": delivery.error_code or None,
                    "latency_ms": delivery.latency_ms,
                    "execution_id": str(delivery.execution_id) if delivery.execution_id else None,
                },
            }
            for hook, delivery in selectors.webhooks_with_last_delivery(owner_id=owner_id)
        ],
        "failing": [
            {
                "kind": failing.kind,
                "id": str(failing.id),
                "name": failing.name,
                "workflow_name": failing.workflow_name,
                "owner": failing.owner,
                "reason": failing.reason,
                "at": _iso(failing.at),
            }
            for failing in selectors.failing_triggers(owner_id=owner_id, since=now - timedelta(days=1))
        ],
    }
