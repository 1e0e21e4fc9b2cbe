"""The accounts API (docs/api/index.md): register, tokens, the caller, API keys."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts_app.errors import LoginRequired
from accounts_app.models import ApiKey, User
from accounts_app.selectors import api_key_get, api_key_list
from accounts_app.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    LoginInput,
    PasswordChangeInput,
    RefreshInput,
    RegisterInput,
    TokenPairOutput,
    UserOutput,
)
from accounts_app.services import (
    api_key_create,
    api_key_revoke,
    password_problems,
    refresh_token_blacklist,
    registration_check_open,
    token_pair_obtain,
    token_pair_refresh,
    user_change_password,
    user_register,
)
from accounts_app.throttles import (
    AnonAddressRateThrottle,
    LoginRateThrottle,
    RegisterRateThrottle,
    UserOrKeyRateThrottle,
)
from core.api import Pagination, ValidationFailed

ERROR = OpenApiResponse(description='`{"error": {"code", "message", "details"}}`')


def validated(serializer_class: type[Serializer], data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def caller(request: Request) -> User:
    """The signed-in user of a request its view's IsAuthenticated let through."""
    user = request.user
    assert isinstance(user, User), "IsAuthenticated lets no anonymous request through"
    return user


class RegistrationOpen(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        registration_check_open()  # a closed registration answers 403 "registration_closed"
        return True


class PublicApi(APIView):
    # Routes that take credentials in the body: an old or broken Authorization header must
    # not stand in the way of logging in again, so no header is read here.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonAddressRateThrottle]


class RegisterApi(PublicApi):
    permission_classes = [RegistrationOpen]
    throttle_classes = [AnonAddressRateThrottle, RegisterRateThrottle]

    @extend_schema(
        request=RegisterInput,
        responses={201: UserOutput, 400: ERROR, 403: ERROR, 429: ERROR},
        auth=[],
        tags=["auth"],
        summary="Create an account",
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterInput(data=request.data)
        if not serializer.is_valid():
            # A malformed email must not hide a weak password until the next attempt.
            raise ValidationFailed(details={**password_problems(request.data), **serializer.errors})
        user = user_register(**serializer.validated_data)
        return Response(UserOutput(user).data, status=201)


class LoginApi(PublicApi):
    throttle_classes = [AnonAddressRateThrottle, LoginRateThrottle]

    @extend_schema(
        request=LoginInput,
        responses={200: TokenPairOutput, 400: ERROR, 401: ERROR, 429: ERROR},
        auth=[],
        tags=["auth"],
        summary="Log in: an access and a refresh token",
    )
    def post(self, request: Request) -> Response:
        return Response(TokenPairOutput(token_pair_obtain(**validated(LoginInput, request.data))).data)


class RefreshApi(PublicApi):
    @extend_schema(
        request=RefreshInput,
        responses={200: TokenPairOutput, 400: ERROR, 401: ERROR},
        auth=[],
        tags=["auth"],
        summary="A new token pair; the refresh token given stops working",
    )
    def post(self, request: Request) -> Response:
        pair = token_pair_refresh(**validated(RefreshInput, request.data))
        return Response(TokenPairOutput(pair).data)


class LogoutApi(PublicApi):
    @extend_schema(
        request=RefreshInput,
        responses={205: OpenApiResponse(description="Logged out; no body."), 400: ERROR, 401: ERROR},
        auth=[],
        tags=["auth"],
        summary="Log out: the refresh token stops working",
    )
    def post(self, request: Request) -> Response:
        refresh_token_blacklist(**validated(RefreshInput, request.data))
        return Response(status=205)


class MeApi(APIView):
    @extend_schema(responses={200: UserOutput, 401: ERROR}, tags=["auth"], summary="The authenticated user")
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


class PasswordChangeApi(APIView):
    # Each attempt counts like a sign-in from its address: the current password is asked
    # for, so this must not be a way around the login limit. Not per account: whoever
    # holds a stolen token could then keep the owner from changing the password.
    throttle_classes = [UserOrKeyRateThrottle, LoginRateThrottle]

    @extend_schema(
        request=PasswordChangeInput,
        responses={200: TokenPairOutput, 400: ERROR, 401: ERROR, 403: ERROR, 429: ERROR},
        tags=["auth"],
        summary="Change the password: every earlier token stops working; a new pair is returned",
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            raise LoginRequired("Changing the password needs a login (Bearer token), not an API key.")
        pair = user_change_password(user=caller(request), **validated(PasswordChangeInput, request.data))
        return Response(TokenPairOutput(pair).data)


class ApiKeyListCreateApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: ApiKeyOutput(many=True), 401: ERROR}, tags=["auth"], summary="The caller's API keys")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(api_key_list(user=caller(request)), request, view=self)
        return paginator.get_paginated_response(ApiKeyOutput(page, many=True).data)

    @extend_schema(
        request=ApiKeyCreateInput,
        responses={201: ApiKeyCreatedOutput, 400: ERROR, 401: ERROR, 403: ERROR},
        tags=["auth"],
        summary="Create an API key (its full text is shown once)",
    )
    def post(self, request: Request) -> Response:
        # A leaked key must not be able to mint keys that outlive its own revocation.
        if isinstance(request.auth, ApiKey):
            raise LoginRequired()
        api_key, full_key = api_key_create(user=caller(request), **validated(ApiKeyCreateInput, request.data))
        return Response(ApiKeyCreatedOutput(api_key, context={"key": full_key}).data, status=201)


class ApiKeyRevokeApi(APIView):
    @extend_schema(responses={204: None, 401: ERROR, 404: ERROR}, tags=["auth"], summary="Revoke an API key")
    def delete(self, request: Request, api_key_id: int) -> Response:
        api_key_revoke(api_key=api_key_get(user=caller(request), api_key_id=api_key_id))
        return Response(status=204)
