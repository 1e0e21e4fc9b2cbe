"""What the dashboard APIs answer, assembled from the database aggregates and Redis. Users
see their own executions; staff see the platform. Queues, workers and providers are
shared by everyone and shown to everyone. A Redis outage leaves its parts null and names
them in `unavailable`, never a 500."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from dashboard_app import counters, platform_state, selectors
from dashboard_app.collector import PlatformCollector, families_as_json

logger = logging.getLogger(__name__)


def scope_owner(user: Any) -> Any | None:
    """None (the whole platform) for staff, else the user's own id."""
    return None if user.is_staff else user.pk


def _from_redis(name: str, read: Any, unavailable: list[str]) -> Any:
    try:
        return read()
    except Exception:
        logger.warning("dashboard: %s unavailable", name, exc_info=True)
        unavailable.append(name)
        return None


def overview_report(*, user: Any) -> dict[str, Any]:
    owner_id, now = scope_owner(user), timezone.now()
    by_status = selectors.status_counts(owner_id=owner_id, now=now)
    durations = selectors.duration_percentiles(owner_id=owner_id, now=now)
    unavailable: list[str] = []
    workers = _from_redis("workers", platform_state.workers_online, unavailable)
    return {
        "scope": "platform" if owner_id is None else "user",
        "generated_at": now.isoformat(),
        "executions": by_status,
        "success_rate": {window: selectors.success_rate(counts) for window, counts in by_status.items()},
        "duration_ms": {"p50": durations.p50_ms, "p95": durations.p95_ms, "samples": durations.samples},
        "series": selectors.hourly_series(owner_id=owner_id, now=now),
        "recent_failures": [
            _failure(execution, user) for execution in selectors.recent_failures(owner_id=owner_id, now=now)
        ],
        "waiting": selectors.waiting_node_counts(owner_id=owner_id),
        "queues": _from_redis("queues", platform_state.queue_depths, unavailable),
        "workers": None if workers is None else _workers(workers, user),
        "counters": _from_redis(
            "counters", lambda: counters.execution_counts(owner_id, client=platform_state.cache_redis()), unavailable
        ),
        "unavailable": unavailable,
    }


def _workers(workers: list[dict[str, Any]], user: Any) -> dict[str, Any]:
    # Host names and pids are the operators' business: users get the count only.
    return {"online": len(workers), "list": workers if user.is_staff else []}


def _failure(execution: Any, user: Any) -> dict[str, Any]:
    error = execution.error if isinstance(execution.error, dict) else {}
    failure = {
        "id": str(execution.id),
        "workflow_id": str(execution.workflow_id),
        "workflow_name": execution.workflow.name,
        "trigger": execution.trigger,
        "owner": execution.owner.username,
        "node_id": error.get("node_id"),
        "error_code": error.get("code"),
        "error_message": error.get("message"),
        "created_at": execution.created_at.isoformat(),
        "finished_at": execution.finished_at.isoformat() if execution.finished_at else None,
        "api_url": reverse("execution-detail", args=[execution.id]),
        "admin_url": None,
    }
    if user.is_staff:  # the admin shows the node runs and logs; it is staff-only
        failure["admin_url"] = reverse("admin:executions_app_execution_change", args=[execution.id])
    return failure


def workflows_report(*, user: Any, days: int) -> dict[str, Any]:
    owner_id, now = scope_owner(user), timezone.now()
    since = now - timedelta(days=days)
    return {
        "scope": "platform" if owner_id is None else "user",
        "since": since.isoformat(),
        "results": selectors.workflow_stats(owner_id=owner_id, since=since),
    }


def metrics_report(*, user: Any) -> dict[str, Any]:
    """The same series /metrics exposes, as JSON, scoped like the other reports."""
    owner_id = scope_owner(user)
    return {
        "scope": "platform" if owner_id is None else "user",
        "generated_at": timezone.now().isoformat(),
        "families": families_as_json(PlatformCollector(owner_id).collect),
    }
