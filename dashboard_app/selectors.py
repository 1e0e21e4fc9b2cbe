"""Database aggregates for the dashboard, the JSON APIs and the Prometheus collector.
Every window is on `created_at` (indexed); `owner_id=None` means the whole platform."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncHour

from executions_app.models import (
    ACTIVE_EXECUTION_STATUSES,
    FINISHED_EXECUTION_STATUSES,
    Execution,
    ExecutionStatus,
    NodeRun,
    NodeRunStatus,
)

STATUSES = [status.value for status in ExecutionStatus]
# SQLite has no percentile function: at most this many durations are read (the newest).
PERCENTILE_SAMPLE_CAP = 10_000
RECENT_FAILURES = 10
PERCENTILES_OVER = (
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.95) WITHIN GROUP (ORDER BY d), "
    "count(*) FROM (SELECT EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000 AS d FROM"
)


def executions_for(owner_id: Any | None) -> QuerySet[Execution]:
    executions = Execution.objects.all()
    return executions if owner_id is None else executions.filter(owner_id=owner_id)


def success_rate(counts: dict[str, int]) -> float | None:
    """Completed out of completed + failed; canceled runs are the user's choice, not a
    failure. None when nothing has finished."""
    decided = counts.get("completed", 0) + counts.get("failed", 0)
    return round(counts.get("completed", 0) / decided, 4) if decided else None


def status_counts(*, owner_id: Any | None, now: datetime) -> dict[str, dict[str, int]]:
    """Executions created in the last hour and the last day, by status (one query)."""
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    aggregates: dict[str, Any] = {}
    for status in STATUSES:
        aggregates[f"hour_{status}"] = Count("id", filter=Q(status=status, created_at__gte=hour_ago))
        aggregates[f"day_{status}"] = Count("id", filter=Q(status=status))
    row = executions_for(owner_id).filter(created_at__gte=day_ago).aggregate(**aggregates)
    windows = {}
    for window, prefix in (("last_hour", "hour_"), ("last_day", "day_")):
        counts = {status: row[prefix + status] for status in STATUSES}
        windows[window] = {**counts, "total": sum(counts.values())}
    return windows


@dataclass(frozen=True)
class DurationStats:
    p50_ms: float | None
    p95_ms: float | None
    samples: int


def _interpolated(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: what PostgreSQL's percentile_cont does."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def duration_percentiles(*, owner_id: Any | None, now: datetime) -> DurationStats:
    """p50/p95 of the duration (start to finish) of executions created in the last day
    that have finished."""
    finished = executions_for(owner_id).filter(
        created_at__gte=now - timedelta(days=1),
        status__in=FINISHED_EXECUTION_STATUSES,
        started_at__isnull=False,
        finished_at__isnull=False,
    )
    if connection.vendor == "postgresql":
        return _postgres_percentiles(finished)
    rows = finished.order_by("-created_at").values_list("started_at", "finished_at")[:PERCENTILE_SAMPLE_CAP]
    # Both are set (the filter above); the stubs type the nullable columns as optional.
    durations = sorted(
        (end - start).total_seconds() * 1000 for start, end in rows if start is not None and end is not None
    )
    return DurationStats(_rounded(_interpolated(durations, 0.5)), _rounded(_interpolated(durations, 0.95)), len(rows))


def duration_buckets(*, owner_id: Any | None, now: datetime, bounds_s: tuple[float, ...]) -> list[int]:
    """How many executions created in the last day finished within each bound (cumulative,
    like a Prometheus histogram), then the total: one aggregate query."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    finished = (
        executions_for(owner_id)
        .filter(
            created_at__gte=now - timedelta(days=1),
            status__in=FINISHED_EXECUTION_STATUSES,
            started_at__isnull=False,
            finished_at__isnull=False,
        )
        .annotate(duration=duration)
    )
    aggregates = {f"b{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(bounds_s)}
    row = finished.aggregate(total=Count("id"), **aggregates)
    return [row[f"b{i}"] for i in range(len(bounds_s))] + [row["total"]]


def _postgres_percentiles(finished: QuerySet[Execution]) -> DurationStats:
    # The ORM has no ordered-set aggregates: wrap the queryset's own SQL (its filters and
    # parameters stay the ORM's) in one percentile_cont query.
    inner, params = finished.values("started_at", "finished_at").query.sql_with_params()
    sql = f"{PERCENTILES_OVER} ({inner}) AS finished) AS durations"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        p50, p95, count = cursor.fetchone()
    return DurationStats(_rounded(p50), _rounded(p95), int(count))


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def hourly_series(*, owner_id: Any | None, now: datetime, hours: int = 24) -> dict[str, Any]:
    """Executions created per hour and status over the last `hours` hours (one query),
    oldest first, every hour present."""
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    rows = (
        executions_for(owner_id)
        .filter(created_at__gte=first_hour)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    slots = [first_hour + timedelta(hours=i) for i in range(hours)]
    index = {slot: i for i, slot in enumerate(slots)}
    by_status = {status: [0] * hours for status in STATUSES}
    for row in rows:
        slot = index.get(row["hour"].astimezone(first_hour.tzinfo))
        if slot is not None:
            by_status[row["status"]][slot] = row["n"]
    return {"hours": [slot.isoformat() for slot in slots], "by_status": by_status}


def recent_failures(*, owner_id: Any | None, now: datetime, limit: int = RECENT_FAILURES) -> list[Execution]:
    """The newest failed executions of the last day, with their workflow."""
    return list(
        executions_for(owner_id)
        .filter(status=ExecutionStatus.FAILED, created_at__gte=now - timedelta(days=1))
        .select_related("workflow", "owner")
        .order_by("-created_at")[:limit]
    )


def workflow_stats(*, owner_id: Any | None, since: datetime) -> list[dict[str, Any]]:
    """Per workflow with executions since `since`: runs, outcomes, success rate and mean
    duration of the finished ones (one aggregate query), busiest first."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (
        executions_for(owner_id)
        .filter(created_at__gte=since)
        .values("workflow_id", "workflow__name", "workflow__owner__username")
        .annotate(
            runs=Count("id"),
            **{status: Count("id", filter=Q(status=status)) for status in STATUSES},
            mean_duration=Avg(duration, filter=Q(finished_at__isnull=False, started_at__isnull=False)),
        )
        .order_by("-runs", "workflow__name")
    )
    stats = []
    for values in rows:
        row: Mapping[str, Any] = values  # the status counts' names are known at run time only
        counts = {status: row[status] for status in STATUSES}
        mean: timedelta | None = row["mean_duration"]
        stats.append(
            {
                "workflow_id": str(row["workflow_id"]),
                "name": row["workflow__name"],
                "owner": row["workflow__owner__username"],
                "runs": row["runs"],
                **counts,
                "success_rate": success_rate(counts),
                "mean_duration_ms": None if mean is None else round(mean.total_seconds() * 1000, 1),
            }
        )
    return stats


WAIT_KINDS = ("timer", "child", "decision")


def active_execution_counts(*, owner_id: Any | None) -> dict[str, int]:
    """Executions queued or running right now."""
    rows = (
        executions_for(owner_id)
        .filter(status__in=ACTIVE_EXECUTION_STATUSES)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {status.value: 0 for status in ACTIVE_EXECUTION_STATUSES}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def waiting_node_counts(*, owner_id: Any | None) -> dict[str, int]:
    """Nodes waiting right now, by what they wait on (timer, child, decision); a retry's
    backoff waiting as a durable timer counts as a timer."""
    runs = NodeRun.objects.filter(status=NodeRunStatus.WAITING)
    if owner_id is not None:
        runs = runs.filter(execution__owner_id=owner_id)
    counts = dict.fromkeys(WAIT_KINDS, 0)
    for row in runs.values("waiting_on__kind").annotate(n=Count("id")).order_by():
        kind = row["waiting_on__kind"]
        if kind in counts:
            counts[kind] += row["n"]
    return counts


class NodeRunCount(TypedDict):
    type: str
    status: str
    n: int


def node_run_counts(*, owner_id: Any | None, now: datetime) -> list[NodeRunCount]:
    """Node runs of the executions created in the last day, by node type and status."""
    runs = NodeRun.objects.filter(execution__created_at__gte=now - timedelta(days=1))
    if owner_id is not None:
        runs = runs.filter(execution__owner_id=owner_id)
    return list(runs.values("type", "status").annotate(n=Count("id")).order_by("type", "status"))
