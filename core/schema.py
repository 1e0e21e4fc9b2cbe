"""The OpenAPI schema view."""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import StrictSerializer


class SchemaApi(SpectacularAPIView):
    """drf-spectacular's schema view, generating one schema at a time per process. Its
    extensions import their target classes lazily on first use, without a lock: two first
    requests at once (gthread workers serve several) could see an extension half-loaded by
    the other and answer 500."""

    _generating = threading.Lock()

    @extend_schema(**SCHEMA_KWARGS)  # as the base view's get: the schema leaves itself out
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self._generating:
            # drf-spectacular ships py.typed but leaves this view's get() unannotated.
            response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
            return response


# drf-spectacular leaves its extension registry (__init_subclass__) and mapper unannotated.
class StrictSerializerSchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """A strict serializer's request body lists every field it takes: the server refuses
    any other with 400, so the schema says `additionalProperties: false`."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        # What drf-spectacular would generate for this subclass (its documented way for an
        # extension to augment the default; the base class would map StrictSerializer).
        schema: dict[str, Any] = auto_schema._map_serializer(  # type: ignore[no-untyped-call]  # noqa: SLF001
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error the API answers has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "stable, machine-readable: validation_error, not_found, …"},
                "message": {"type": "string", "description": "for a person"},
                "details": {"nullable": True, "description": "per field or per problem, when there is more to say"},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_SERVER_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_GENERIC_ERRORS = {
    "400": "The request is not valid: `validation_error` (details per field) or `parse_error`.",
    "401": "No credentials, or ones that are not valid (`not_authenticated`, `authentication_failed`).",
    "404": "Not found, not the caller's, or a page past the last (`not_found`).",
    "413": "The body is over SWITCHBOARD_MAX_BODY_BYTES (`payload_too_large`, the limit in details).",
    "414": "The query string is over SWITCHBOARD_MAX_QUERY_STRING_BYTES, 2,048 bytes by default "
    "(`uri_too_long`, the limit in details); a request line over 4,094 bytes is refused by the web server "
    "itself, in text.",
    "415": "The body is not `application/json` (`unsupported_media_type`).",
    "429": "Over a rate limit (`throttled`; `Retry-After` header and `details.retry_after_s`).",
}


def document_errors(result: dict[str, Any], generator: object, request: object, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the errors every client meets, on every API
    operation that can answer them, with the one error shape. A view's own declared
    errors (409, 429, …) keep their descriptions and get the shape too."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _errors_of(method, operation):
                responses.setdefault(status, {"description": _GENERIC_ERRORS[status]})
            for status, response in responses.items():
                if status.startswith("4") and "content" not in response:
                    response["content"] = _ERROR_CONTENT
            if "414" in responses:
                # Past the web server's request line (4,094 bytes), gunicorn answers first, in text.
                responses["414"]["content"] = {**_ERROR_CONTENT, **_SERVER_TEXT}
    return result


def _errors_of(method: str, operation: dict[str, Any]) -> list[str]:
    located = {(p.get("in"), p.get("name")) for p in operation.get("parameters", [])}
    # A page past the last is DRF's 404; an unusable page_size is ignored.
    filters = {name for place, name in located if place == "query"} - {"page", "page_size"}
    statuses = []
    if method in ("post", "put", "patch") or filters:
        statuses.append("400")
    if "requestBody" in operation:
        statuses += ["413", "415"]
    if operation.get("security") and {} not in operation["security"]:
        statuses.append("401")
    if any(place == "path" for place, _ in located) or ("query", "page") in located:
        statuses.append("404")
    statuses.append("414")  # every request's query string is measured (core/query_string.py)
    statuses.append("429")  # every route is throttled (per user, key or address)
    return statuses


def conflict(codes: str) -> OpenApiResponse:
    """A view's 409, naming its error codes; document_errors gives it the error shape."""
    return OpenApiResponse(description=f"The request conflicts with the current state: {codes}.")
