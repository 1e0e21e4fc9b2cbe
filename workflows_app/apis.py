"""The workflows API: validate the input, call one service or selector, answer."""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import conflict
from workflows_app.definition import parse_definition
from workflows_app.filters import WorkflowFilter
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.nodes.base import node_types
from workflows_app.selectors import (
    version_for_number,
    version_list,
    workflow_export_document,
    workflow_get,
    workflow_list,
)
from workflows_app.serializers import (
    DefinitionInput,
    ExportOutput,
    NodeTypeListOutput,
    ValidOutput,
    VersionOutput,
    VersionSummaryOutput,
    WorkflowInput,
    WorkflowOutput,
)
from workflows_app.services import workflow_archive, workflow_create, workflow_import, workflow_update


def _validated(serializer_class: type, data: Any, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


VERSION_CONFLICT = conflict("`version_conflict` (the `version` sent is not the current one)")


class WorkflowListCreateApi(ListModelMixin, GenericAPIView):
    serializer_class = WorkflowOutput
    filterset_class = WorkflowFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Workflow.objects.none()
        return workflow_list(user=self.request.user)

    def get(self, request: Request) -> Response:
        return self.list(request)  # filtered, searched, ordered, paginated

    @extend_schema(request=WorkflowInput, responses={201: WorkflowOutput})
    def post(self, request: Request) -> Response:
        data = _validated(WorkflowInput, request.data)
        workflow = workflow_create(
            owner=request.user,
            name=data["name"],
            description=data.get("description", ""),
            is_active=data.get("is_active", True),
            definition=data["definition"],
            layout=data.get("layout"),
        )
        return Response(WorkflowOutput(workflow).data, status=201)


class WorkflowDetailApi(APIView):
    @extend_schema(responses=WorkflowOutput)
    def get(self, request: Request, pk: Any) -> Response:
        return Response(WorkflowOutput(workflow_get(request.user, pk)).data)

    @extend_schema(request=WorkflowInput, responses={200: WorkflowOutput, 409: VERSION_CONFLICT})
    def put(self, request: Request, pk: Any) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(request=WorkflowInput, responses={200: WorkflowOutput, 409: VERSION_CONFLICT})
    def patch(self, request: Request, pk: Any) -> Response:
        return self._update(request, pk, partial=True)

    def _update(self, request: Request, pk: Any, *, partial: bool) -> Response:
        workflow = workflow_get(request.user, pk)  # 404 before any body problem
        data = _validated(WorkflowInput, request.data, partial=partial)
        workflow = workflow_update(
            workflow=workflow,
            user=request.user,
            expected_version=data.get("version"),
            name=data.get("name"),
            description=data.get("description"),
            is_active=data.get("is_active"),
            definition=data.get("definition"),
            layout=data.get("layout"),
        )
        return Response(WorkflowOutput(workflow).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: Any) -> Response:
        workflow_archive(workflow=workflow_get(request.user, pk))
        return Response(status=204)


class WorkflowValidateApi(APIView):
    @extend_schema(request=DefinitionInput, responses=ValidOutput)
    def post(self, request: Request) -> Response:
        parse_definition(_validated(DefinitionInput, request.data)["definition"])
        return Response({"valid": True})


class WorkflowVersionListApi(ListModelMixin, GenericAPIView):
    serializer_class = VersionSummaryOutput
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkflowVersion.objects.none()
        return version_list(user=self.request.user, workflow_id=self.kwargs["pk"])

    def get(self, request: Request, pk: Any) -> Response:
        return self.list(request)


class WorkflowVersionDetailApi(APIView):
    @extend_schema(responses=VersionOutput)
    def get(self, request: Request, pk: Any, number: int) -> Response:
        version = version_for_number(user=request.user, workflow_id=pk, number=number)
        return Response(VersionOutput(version).data)


class WorkflowExportApi(APIView):
    @extend_schema(responses=ExportOutput)
    def get(self, request: Request, pk: Any) -> Response:
        workflow = workflow_get(request.user, pk)
        filename = f"{slugify(workflow.name) or 'workflow'}.json"
        return Response(
            workflow_export_document(workflow), headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )


class WorkflowImportApi(APIView):
    # An export, or any body create takes: its read-only fields are accepted and ignored.
    @extend_schema(request=WorkflowInput, responses={201: WorkflowOutput})
    def post(self, request: Request) -> Response:
        workflow = workflow_import(owner=request.user, document=request.data)
        return Response(WorkflowOutput(workflow).data, status=201)


class NodeTypeListApi(APIView):
    """The node-type registry: each type's config schema and output shape, in registry order."""

    @extend_schema(responses=NodeTypeListOutput)
    def get(self, request: Request) -> Response:
        return Response(NodeTypeListOutput({"results": list(node_types().values())}).data)
