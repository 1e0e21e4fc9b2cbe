from __future__ import annotations

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.api import ValidationFailed
from core.renderers import JSONRenderer
from core.schema import conflict
from core.wsgi_on_asgi import CLIENT_DEPARTED
from executions_app import event_stream, events
from executions_app.event_stream import EventStreamRenderer
from executions_app.filters import ExecutionFilter
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution
from executions_app.retry import execution_retry
from executions_app.selectors import execution_get, execution_list, execution_logs, execution_wait_held
from executions_app.serializers import ExecutionCreateInput, ExecutionLogOutput, ExecutionLogQuery, ExecutionOutput
from executions_app.services import IDEMPOTENCY_KEY_MAX_CHARS, execution_cancel, execution_create


class ExecutionListCreateApi(generics.ListAPIView):
    serializer_class = ExecutionOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = ExecutionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user to filter by
            return Execution.objects.none()
        return execution_list(user=self.request.user)

    @extend_schema(
        request=ExecutionCreateInput,
        responses={
            200: ExecutionOutput,
            202: ExecutionOutput,
            404: OpenApiResponse(description="No workflow with this `workflow_id` among the caller's (`not_found`)."),
            409: conflict("`workflow_inactive`, `idempotency_key_reused`"),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX_CHARS},
                OpenApiParameter.HEADER,
                required=False,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        if "wait" in request.query_params:
            # A client that put it in the URL would otherwise get a 202 and think wait broken.
            raise ValidationFailed(details={"wait": ["Send wait in the JSON body, not the query string."]})
        data = ExecutionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        execution, _ = execution_create(
            user=request.user,
            workflow_id=data.validated_data["workflow_id"],
            inputs=data.validated_data["inputs"],
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        wait = data.validated_data.get("wait")
        if wait:
            execution_wait_held(user_id=request.user.pk, execution_id=execution.id, timeout_s=wait)
        execution = execution_get(user=request.user, execution_id=execution.id)
        finished = bool(wait) and execution.status in FINISHED_EXECUTION_STATUSES  # as read, not as cached
        return Response(ExecutionOutput(execution).data, status=status.HTTP_200_OK if finished else 202)


class ExecutionDetailApi(APIView):
    @extend_schema(responses=ExecutionOutput)
    def get(self, request: Request, pk: str) -> Response:
        return Response(ExecutionOutput(execution_get(user=request.user, execution_id=pk)).data)


@extend_schema(parameters=[ExecutionLogQuery])
class ExecutionLogsApi(generics.ListAPIView):
    """The execution's log, oldest first: its start, each node's start, failed attempts and
    end (with attempt and duration), its end, and the stored lines (a cancel, the sweeper)."""

    serializer_class = ExecutionLogOutput
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no execution to read
            return []
        execution = execution_get(user=self.request.user, execution_id=self.kwargs["pk"])
        query = ExecutionLogQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return execution_logs(
            execution=execution,
            levels=query.validated_data.get("level", ()),
            node_id=query.validated_data.get("node_id", ""),
            search=query.validated_data.get("search", ""),
        )


class ExecutionEventsApi(APIView):
    # JSON first: a refused negotiation (406) is answered in JSON, and handle_exception
    # keeps every other error JSON too, whatever the Accept header asked for.
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    # A browser's EventSource cannot send an Authorization header: the dashboard's
    # session cookie is accepted here too (a read-only GET, so no CSRF exposure).
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, SessionAuthentication]

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                # The ids the stream sends (events.is_stream_id); 19 digits a part always fit
                # the 64 bits a part may hold, so every id this pattern matches is taken.
                {"type": "string", "pattern": "^[0-9]{1,19}(-[0-9]{1,19})?$"},
                OpenApiParameter.HEADER,
                required=False,
                description="The `id` of the last event received, to resume after it.",
            )
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                response=events.EVENT_SCHEMA, description=event_stream.STREAM_DESCRIPTION
            ),
            204: OpenApiResponse(
                description="A reconnect (`Last-Event-ID`) to an execution that ended, whose final event the "
                "client saw or whose stream expired: nothing more will come, and EventSource stops."
            ),
            429: OpenApiResponse(
                description="Over a rate limit (`throttled`), or the user already holds "
                "SWITCHBOARD_EVENTS_MAX_STREAMS_PER_USER streams (`too_many_streams`)."
            ),
        },
    )
    def get(self, request: Request, pk: str) -> HttpResponseBase:
        execution = execution_get(user=request.user, execution_id=pk)
        after = event_stream.resume_point(request.headers.get("Last-Event-ID"))
        if event_stream.already_ended_for(execution, after):
            return HttpResponse(status=204)  # EventSource stops reconnecting on a 204
        frames = event_stream.open_stream(  # 429 past the cap
            user_id=request.user.pk,
            execution=execution,
            after=after,
            departed=request.META.get(CLIENT_DEPARTED),
        )
        response = StreamingHttpResponse(frames, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
        return response


class ExecutionRetryApi(APIView):
    @extend_schema(
        request=None,
        responses={201: ExecutionOutput, 409: conflict("`not_retryable`, `workflow_inactive`, `retry_in_progress`")},
    )
    def post(self, request: Request, pk: str) -> Response:
        retry = execution_retry(execution=execution_get(user=request.user, execution_id=pk))
        return Response(ExecutionOutput(execution_get(user=request.user, execution_id=retry.id)).data, status=201)


class ExecutionCancelApi(APIView):
    @extend_schema(request=None, responses=ExecutionOutput)
    def post(self, request: Request, pk: str) -> Response:
        execution = execution_cancel(execution=execution_get(user=request.user, execution_id=pk))
        return Response(ExecutionOutput(execution_get(user=request.user, execution_id=execution.id)).data)
