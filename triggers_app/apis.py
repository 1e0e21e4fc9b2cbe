"""The triggers API: the owner's webhooks under /api/triggers/webhooks, and what the
schedules' views (schedule_apis.py) share with them. Thin: validate, call one service or
selector, answer. The hook itself (POST /hooks/<token>) is triggers_app/hook_views.py."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import conflict
from triggers_app import selectors
from triggers_app.models import Delivery, WebhookTrigger
from triggers_app.serializers import (
    DeliveryOutput,
    RotationInput,
    TestDeliveryInput,
    WebhookInput,
    WebhookOutput,
    WebhookSecretsOutput,
    WebhookUpdateInput,
)
from triggers_app.webhooks import ingest
from triggers_app.webhooks import services as webhooks


class WorkflowQuery(serializers.Serializer):
    """Narrows a list to one workflow's triggers (beside the pagination's parameters)."""

    workflow = serializers.UUIDField(required=False)


WORKFLOW_PARAMETER = OpenApiParameter("workflow", {"type": "string", "format": "uuid"}, required=False)
NO_WORKFLOW = OpenApiResponse(description="No workflow with this `workflow_id` among the caller's (`not_found`).")


def validated(serializer_class: type[serializers.Serializer], data: Any, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated


def workflow_filter(request: Request) -> Any:
    return validated(WorkflowQuery, request.query_params).get("workflow")


def _with_secrets(request: Request, trigger: WebhookTrigger, token: str | None, secret: str | None) -> dict:
    context: dict[str, Any] = {"secret": secret}
    if token:
        context |= {"token": token, "url": request.build_absolute_uri(f"/hooks/{token}")}
    return WebhookSecretsOutput(trigger, context=context).data


WEBHOOK_EXAMPLE = OpenApiExample(
    "An order hook",
    request_only=True,
    value={
        "workflow_id": "6f1c2d1e-8a86-4a53-9b1c-0f8f5d4a9b10",
        "name": "Shop orders",
        "mode": "async",
        "input_mapping": {"order_id": "{{ body.order.id }}", "source": "{{ query.source }}"},
        "delivery_id_header": "X-Shop-Delivery",
    },
)


class WebhookListCreateApi(ListModelMixin, GenericAPIView[WebhookTrigger]):
    serializer_class = WebhookOutput
    filter_backends = ()

    def get_queryset(self) -> QuerySet[WebhookTrigger]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return WebhookTrigger.objects.none()
        return selectors.webhook_list(user=self.request.user, workflow_id=workflow_filter(self.request))

    @extend_schema(parameters=[WORKFLOW_PARAMETER])
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(
        request=WebhookInput, responses={201: WebhookSecretsOutput, 404: NO_WORKFLOW}, examples=[WEBHOOK_EXAMPLE]
    )
    def post(self, request: Request) -> Response:
        data = validated(WebhookInput, request.data)
        trigger, token, secret = webhooks.webhook_create(user=request.user, **data)
        return Response(_with_secrets(request, trigger, token, secret), status=201)


class WebhookDetailApi(APIView):
    @extend_schema(responses=WebhookOutput)
    def get(self, request: Request, pk: Any) -> Response:
        return Response(WebhookOutput(selectors.webhook_get(user=request.user, trigger_id=pk)).data)

    @extend_schema(
        request=WebhookUpdateInput,
        responses=WebhookSecretsOutput,
        description="Turning signing on for a hook without a secret makes one: it is in `secret`, shown once.",
    )
    def patch(self, request: Request, pk: Any) -> Response:
        trigger = selectors.webhook_get(user=request.user, trigger_id=pk)  # 404 before any body problem
        data = validated(WebhookUpdateInput, request.data, partial=True)
        trigger, secret = webhooks.webhook_update(trigger=trigger, **data)
        return Response(_with_secrets(request, trigger, None, secret))

    @extend_schema(responses={204: None}, description="Deletes the hook and its delivery log (revoke keeps the log).")
    def delete(self, request: Request, pk: Any) -> Response:
        selectors.webhook_get(user=request.user, trigger_id=pk).delete()
        return Response(status=204)


class WebhookRotateTokenApi(APIView):
    @extend_schema(
        request=RotationInput,
        responses=WebhookSecretsOutput,
        description="A new token and URL, shown once; the old token keeps working for `overlap_s` seconds.",
    )
    def post(self, request: Request, pk: Any) -> Response:
        trigger = selectors.webhook_get(user=request.user, trigger_id=pk)
        data = validated(RotationInput, request.data)
        trigger, token = webhooks.webhook_rotate_token(trigger=trigger, overlap_s=data["overlap_s"])
        return Response(_with_secrets(request, trigger, token, None))


class WebhookRotateSecretApi(APIView):
    @extend_schema(
        request=RotationInput,
        responses=WebhookSecretsOutput,
        description="A new signing secret, shown once; signatures made with the old one pass for `overlap_s` seconds.",
    )
    def post(self, request: Request, pk: Any) -> Response:
        trigger = selectors.webhook_get(user=request.user, trigger_id=pk)
        data = validated(RotationInput, request.data)
        trigger, secret = webhooks.webhook_rotate_secret(trigger=trigger, overlap_s=data["overlap_s"])
        return Response(_with_secrets(request, trigger, None, secret))


class WebhookRevokeApi(APIView):
    @extend_schema(
        request=None, responses=WebhookOutput, description="Every token of the hook answers 404 from now on."
    )
    def post(self, request: Request, pk: Any) -> Response:
        trigger = webhooks.webhook_revoke(trigger=selectors.webhook_get(user=request.user, trigger_id=pk))
        return Response(WebhookOutput(trigger).data)


class DeliveryListApi(ListModelMixin, GenericAPIView[Delivery]):
    """The hook's delivery log, newest first: accepted and refused calls alike."""

    serializer_class = DeliveryOutput
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Delivery]:
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        trigger = selectors.webhook_get(user=self.request.user, trigger_id=self.kwargs["pk"])
        return selectors.delivery_list(trigger=trigger)

    def get(self, request: Request, pk: Any) -> Response:
        return self.list(request)


class DeliveryDetailApi(APIView):
    @extend_schema(responses=DeliveryOutput)
    def get(self, request: Request, pk: Any, delivery_id: Any) -> Response:
        trigger = selectors.webhook_get(user=request.user, trigger_id=pk)
        return Response(DeliveryOutput(selectors.delivery_get(trigger=trigger, delivery_id=delivery_id)).data)


class WebhookTestApi(APIView):
    @extend_schema(
        request=TestDeliveryInput,
        responses={201: DeliveryOutput},
        description="A delivery from the owner, `body` as a caller would post it, without a signature: it is "
        "mapped and starts an execution as a delivery does. A delivery the hook refuses (its mapping, the "
        "workflow's inputs) is logged too: its `response_status` and `error_code` say why.",
    )
    def post(self, request: Request, pk: Any) -> Response:
        trigger = selectors.webhook_get(user=request.user, trigger_id=pk)
        data = validated(TestDeliveryInput, request.data)
        return Response(DeliveryOutput(ingest.deliver_test(trigger, data["body"])).data, status=201)


class DeliveryReplayApi(APIView):
    @extend_schema(
        request=None,
        responses={201: DeliveryOutput, 409: conflict("`not_replayable`")},
        description="The logged delivery again, mapped with the hook's current mapping: a new execution.",
    )
    def post(self, request: Request, pk: Any, delivery_id: Any) -> Response:
        trigger = selectors.webhook_get(user=request.user, trigger_id=pk)
        delivery = selectors.delivery_get(trigger=trigger, delivery_id=delivery_id)
        return Response(DeliveryOutput(ingest.deliver_replay(delivery)).data, status=201)
