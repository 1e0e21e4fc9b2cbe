"""The triggers API: the owner's schedules under /api/triggers/schedules. Thin: validate,
call one service or selector, answer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import conflict
from executions_app.selectors import execution_get
from executions_app.serializers import ExecutionOutput
from triggers_app import selectors
from triggers_app.apis import NO_WORKFLOW, WORKFLOW_PARAMETER, validated, workflow_filter
from triggers_app.models import Schedule, ScheduleTick
from triggers_app.schedules import services as schedules
from triggers_app.schedules.firing import fire_now
from triggers_app.serializers import (
    ScheduleInput,
    ScheduleOutput,
    ScheduleUpdateInput,
    TickOutput,
)

SCHEDULE_EXAMPLE = OpenApiExample(
    "Every night at 02:30 in Berlin",
    request_only=True,
    value={
        "workflow_id": "6f1c2d1e-8a86-4a53-9b1c-0f8f5d4a9b10",
        "name": "Nightly report",
        "cron": "30 2 * * *",
        "timezone": "Europe/Berlin",
        "inputs": {"day": "{{ trigger.scheduled_at[:10] }}"},
        "overlap": "skip",
        "catch_up": "skip_missed",
    },
)


class ScheduleListCreateApi(ListModelMixin, GenericAPIView[Schedule]):
    serializer_class = ScheduleOutput
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Schedule]:
        if getattr(self, "swagger_fake_view", False):
            return Schedule.objects.none()
        return selectors.schedule_list(user=self.request.user, workflow_id=workflow_filter(self.request))

    @extend_schema(parameters=[WORKFLOW_PARAMETER])
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(
        request=ScheduleInput, responses={201: ScheduleOutput, 404: NO_WORKFLOW}, examples=[SCHEDULE_EXAMPLE]
    )
    def post(self, request: Request) -> Response:
        data = validated(ScheduleInput, request.data)
        schedule = schedules.schedule_create(user=request.user, **data)
        return Response(ScheduleOutput(schedule).data, status=201)


class ScheduleDetailApi(APIView):
    @extend_schema(responses=ScheduleOutput)
    def get(self, request: Request, pk: Any) -> Response:
        return Response(ScheduleOutput(selectors.schedule_get(user=request.user, schedule_id=pk)).data)

    @extend_schema(
        request=ScheduleUpdateInput,
        responses=ScheduleOutput,
        description="A new `cron`, `interval_s` or `timezone` recomputes the next fire time from now.",
    )
    def patch(self, request: Request, pk: Any) -> Response:
        schedule = selectors.schedule_get(user=request.user, schedule_id=pk)
        data = validated(ScheduleUpdateInput, request.data, partial=True)
        return Response(ScheduleOutput(schedules.schedule_update(schedule=schedule, **data)).data)

    @extend_schema(responses={204: None}, description="Deletes the schedule and its ticks; its executions stay.")
    def delete(self, request: Request, pk: Any) -> Response:
        selectors.schedule_get(user=request.user, schedule_id=pk).delete()
        return Response(status=204)


class SchedulePauseApi(APIView):
    @extend_schema(request=None, responses=ScheduleOutput, description="No tick fires until it is resumed.")
    def post(self, request: Request, pk: Any) -> Response:
        schedule = schedules.schedule_pause(schedule=selectors.schedule_get(user=request.user, schedule_id=pk))
        return Response(ScheduleOutput(schedule).data)


class ScheduleResumeApi(APIView):
    @extend_schema(
        request=None,
        responses={200: ScheduleOutput, 409: conflict("`workflow_inactive`")},
        description="Fires again from the next future tick; the ticks it missed while paused are not made up.",
    )
    def post(self, request: Request, pk: Any) -> Response:
        schedule = schedules.schedule_resume(schedule=selectors.schedule_get(user=request.user, schedule_id=pk))
        return Response(ScheduleOutput(schedule).data)


class ScheduleRunApi(APIView):
    @extend_schema(
        request=None,
        responses={201: ExecutionOutput, 409: conflict("`workflow_inactive`")},
        description="A run now, recorded as a fired tick; the overlap policy does not apply (the owner asked "
        "for this run) and the next fire time stays as it is.",
    )
    def post(self, request: Request, pk: Any) -> Response:
        execution = fire_now(selectors.schedule_get(user=request.user, schedule_id=pk))
        return Response(ExecutionOutput(execution_get(user=request.user, execution_id=execution.id)).data, status=201)


class TickListApi(ListModelMixin, GenericAPIView[ScheduleTick]):
    """What became of each tick, newest first: fired, skipped (overlap), queued, missed, failed."""

    serializer_class = TickOutput
    filter_backends = ()

    def get_queryset(self) -> QuerySet[ScheduleTick]:
        if getattr(self, "swagger_fake_view", False):
            return ScheduleTick.objects.none()
        schedule = selectors.schedule_get(user=self.request.user, schedule_id=self.kwargs["pk"])
        return selectors.tick_list(schedule=schedule)

    def get(self, request: Request, pk: Any) -> Response:
        return self.list(request)
