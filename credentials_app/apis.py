"""The credentials API: validate, call one service or selector, answer without the value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import conflict
from credentials_app.models import Credential
from credentials_app.serializers import CredentialInput, CredentialOutput, CredentialUpdateInput
from credentials_app.services import (
    credential_create,
    credential_delete,
    credential_get,
    credential_list,
    credential_update,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet


def _validated(serializer_class: type[CredentialInput], data: Any, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated


NAME_TAKEN = conflict("`credential_name_taken`")


class CredentialListCreateApi(ListModelMixin, GenericAPIView[Credential]):
    serializer_class = CredentialOutput
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Credential]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Credential.objects.none()
        return credential_list(user=self.request.user)

    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(request=CredentialInput, responses={201: CredentialOutput, 409: NAME_TAKEN})
    def post(self, request: Request) -> Response:
        data = _validated(CredentialInput, request.data)
        credential = credential_create(
            user=request.user, name=data["name"], value=data["value"], description=data.get("description", "")
        )
        return Response(CredentialOutput(credential).data, status=201)


class CredentialDetailApi(APIView):
    @extend_schema(responses=CredentialOutput)
    def get(self, request: Request, pk: Any) -> Response:
        return Response(CredentialOutput(credential_get(user=request.user, credential_id=pk)).data)

    @extend_schema(request=CredentialUpdateInput, responses={200: CredentialOutput, 409: NAME_TAKEN})
    def put(self, request: Request, pk: Any) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(request=CredentialUpdateInput, responses={200: CredentialOutput, 409: NAME_TAKEN})
    def patch(self, request: Request, pk: Any) -> Response:
        return self._update(request, pk, partial=True)

    def _update(self, request: Request, pk: Any, *, partial: bool) -> Response:
        credential = credential_get(user=request.user, credential_id=pk)  # 404 before any body problem
        data = _validated(CredentialUpdateInput, request.data, partial=partial)
        credential = credential_update(
            credential=credential,
            name=data.get("name"),
            value=data.get("value"),
            description=data.get("description", None if partial else ""),
        )
        return Response(CredentialOutput(credential).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: Any) -> Response:
        credential_delete(credential=credential_get(user=request.user, credential_id=pk))
        return Response(status=204)
