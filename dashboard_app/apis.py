"""The dashboard's JSON APIs (docs/operations/monitoring.md). The HTML dashboard calls them with the session
cookie, so the session is accepted beside the API's own schemes (CSRF applies to unsafe
methods only, and these are all GET)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import SessionApi, ValidationFailed
from dashboard_app.health import platform_health
from dashboard_app.reports import metrics_report, overview_report, workflows_report
from dashboard_app.trigger_report import triggers_report

MAX_WINDOW_DAYS = 90


class OverviewApi(SessionApi):
    """Executions by status (last hour, last day), success rate, p50/p95 duration, the last
    24 h by hour, recent failures, queue depths, workers online and the Redis counters."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(overview_report(user=request.user))


class WorkflowsQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_WINDOW_DAYS, default=7)


class WorkflowsApi(SessionApi):
    """Per workflow: runs, outcomes, success rate and mean duration over the last `days`."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS, "default": 7},
                description="window, 1 to 90 days (7)",
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        query = WorkflowsQuery(data=request.query_params)
        if not query.is_valid():
            raise ValidationFailed(details=query.errors)
        return Response(workflows_report(user=request.user, days=query.validated_data["days"]))


class TriggersApi(SessionApi):
    """The schedules that fire next, each live webhook with its last delivery, and the
    triggers that failed in the last 24 h (stopped schedules, failed ticks, refused or
    failed deliveries)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(triggers_report(user=request.user))


class HealthApi(SessionApi):
    """Database, Redis, broker and workers with their latency; 503 when one is down."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        health = platform_health()
        if not request.user.is_staff:
            # Error texts name internal hosts and ports: staff only.
            for report in health["components"].values():
                if "error" in report:
                    report["error"] = "unavailable"
        return Response(health, status=200 if health["ok"] else 503)


class MetricsApi(SessionApi):
    """The series of /metrics as JSON (`families`: name, type, help, samples)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(metrics_report(user=request.user))
