"""What every API shares: the JSON error shape, application errors, pagination and the
strict serializer that refuses unknown fields."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class AppError(Exception):
    """An error a user can act on; the API answers it as the JSON error shape."""

    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        if code:
            self.code = code


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class ValidationFailed(AppError):
    status_code = 400
    code = "validation_error"
    message = "The request is not valid."


# DRF's own exceptions mapped to stable codes (their default_code where it is clear).
_DRF_CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "validation_error",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | JsonResponse | None:
    if isinstance(exc, AppError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an API error. Without DEBUG, Django's handler400 / handler500 answer it as
        # JSON; with DEBUG, Django would answer with its HTML debug page instead.
        return _unhandled_under_debug(exc, context["request"]._request) if settings.DEBUG else None
    # DRF answers only its own exceptions (Http404 and PermissionDenied were mapped above).
    assert isinstance(exc, exceptions.APIException)
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    details: Any
    if isinstance(exc, exceptions.ValidationError):
        message, details = "The request is not valid.", exc.detail
    else:
        message, details = str(exc.detail), None
        if isinstance(exc, exceptions.Throttled):
            # drf-stubs leave out Throttled.wait, which Throttled.__init__ always sets.
            wait: float | None = exc.wait  # type: ignore[attr-defined]
            if wait is not None:
                details = {"retry_after_s": int(wait + 0.999)}
    response.data = error_body(code, message, details)
    return response


def _unhandled_under_debug(exc: Exception, request: HttpRequest) -> JsonResponse:
    """What Django does for an exception a view let through (signal, log with the
    traceback), answered with the JSON error shape instead of the debug page."""
    if isinstance(exc, SuspiciousOperation):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE, say
        response = json_400(request, exc)
        # As Django logs it without DEBUG; a refusal for size passes its logger's filter,
        # which makes it a rate-limited warning without the traceback (settings_logging.py).
        security_logger = logging.getLogger(f"django.security.{type(exc).__name__}")
        log_response(str(exc), exception=exc, request=request, response=response, level="error", logger=security_logger)
        return response
    signals.got_request_exception.send(sender=None, request=request)
    response = json_500(request)
    log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request, exception=exc)
    return response


@csrf_exempt  # an unknown path is a 404 for every method, never a CSRF failure page
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Answers every /api/ path no route matches. A route and not handler404 alone: with
    DEBUG on, Django answers an unmatched URL with its debug page, never the handler."""
    if request.path.endswith("/") and len(request.path) > 1:
        bare = request.path.rstrip("/")
        try:
            match = resolve(bare)
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message = f"Not found. API paths have no trailing slash: {bare}"
            return JsonResponse(error_body("not_found", message), status=404)
    return json_404(request)


def json_400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Reached for bodies over the size limit and other suspicious requests.
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is over {limit} bytes, the limit (SWITCHBOARD_MAX_BODY_BYTES)."
        return JsonResponse(error_body("payload_too_large", message, {"limit_bytes": limit}), status=413)
    return JsonResponse(error_body("bad_request", "The request was refused (too large or malformed)."), status=400)


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_500(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class StrictSerializer(serializers.Serializer[Any]):
    # Refuses fields it does not know; read-only fields are accepted and ignored so a GET
    # body can be sent back as a PUT. A comment, not a docstring: the OpenAPI describes a
    # serializer by the first docstring up its classes, and this one would stand for every
    # request body that has none of its own.

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(self.fields)
            unknown = sorted(k for k in data if k not in known)
            if unknown:
                raise serializers.ValidationError({k: ["Unknown field."] for k in unknown})
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer[Any]):
    pass


class SessionApi(APIView):
    """An API that the HTML pages call with the session cookie, beside the API's own
    schemes (DRF's session authentication enforces CSRF on unsafe methods)."""

    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, SessionAuthentication]
