"""The approvals API: the owner decides a waiting APPROVAL node, asks for its signed
links, and lists what waits for a decision. Thin: the work is in executions_app/approvals/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import conflict
from executions_app.approval_serializers import ApprovalLinksOutput, ApprovalOutput, DecisionInput, DecisionOutput
from executions_app.approvals import decisions, inbox, links
from executions_app.models import NodeRun

NO_NODE = OpenApiResponse(description="No such execution among the caller's, or no such node in it (`not_found`).")


class ApprovalDecisionApi(APIView):
    @extend_schema(
        request=DecisionInput,
        responses={
            200: DecisionOutput,
            404: NO_NODE,
            409: conflict("`not_waiting`, `already_decided`, `expired`"),
        },
    )
    def post(self, request: Request, pk: str, node_id: str) -> Response:
        found = decisions.approval_node_get(user=request.user, execution_id=pk, node_id=node_id)
        body = DecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        parts = decisions.checked_decision(
            found,
            decision=body.validated_data["decision"],
            comment=body.validated_data.get("comment"),
            data=body.validated_data.get("data"),
            has_data="data" in body.validated_data,
        )
        decision = decisions.decide(found, parts, by=request.user.get_username())
        found.execution.refresh_from_db(fields=["status"])
        answer = {
            "execution_id": found.execution.id,
            "execution_status": found.execution.status,
            "node_id": node_id,
            **decision,
        }
        return Response(DecisionOutput(answer).data)


class ApprovalLinksApi(APIView):
    @extend_schema(
        request=None,
        responses={
            201: ApprovalLinksOutput,
            404: NO_NODE,
            409: conflict("`links_disabled`, `not_waiting`, `already_decided`, `expired`"),
        },
    )
    def post(self, request: Request, pk: str, node_id: str) -> Response:
        found = decisions.approval_node_get(user=request.user, execution_id=pk, node_id=node_id)
        issued = links.links_issue(found)
        answer = {
            "approve_url": request.build_absolute_uri(f"{links.LINK_PATH}{issued.approve_token}"),
            "reject_url": request.build_absolute_uri(f"{links.LINK_PATH}{issued.reject_token}"),
            "expires_at": issued.expires_at,
        }
        return Response(ApprovalLinksOutput(answer).data, status=201)


class ApprovalListApi(generics.ListAPIView):
    """The APPROVAL nodes waiting for the caller's decision, newest first."""

    serializer_class = ApprovalOutput
    filter_backends: list = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user to filter by
            return NodeRun.objects.none()
        return inbox.approvals_waiting(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        items = [ApprovalOutput(inbox.inbox_item(run)).data for run in page or []]
        return self.get_paginated_response(items)
