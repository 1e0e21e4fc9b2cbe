"""A query string over settings.SWITCHBOARD.max_query_string_bytes is answered 414
`uri_too_long` in the JSON error shape, before anything else reads the request.

gunicorn refuses a request line over its own limit (`--limit-request-line`, 4,094 bytes by
default: method, path, query and protocol) with an HTML page of its own; Django never
sees the request. A limit on the query below that one means a too-long query is answered
as the API documents it, naming the limit, unless it is long enough to reach gunicorn's."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.api import error_body


def query_string_bytes(query_string: str) -> int:
    """The size on the wire of a QUERY_STRING: under WSGI each character is one byte
    (bytes read as latin-1); ASGI decodes it as UTF-8."""
    try:
        return len(query_string.encode("latin-1"))
    except UnicodeEncodeError:
        return len(query_string.encode())


def uri_too_long(limit: int) -> JsonResponse:
    message = f"The query string is over {limit} bytes, the limit (SWITCHBOARD_MAX_QUERY_STRING_BYTES)."
    return JsonResponse(error_body("uri_too_long", message, {"limit_bytes": limit}), status=414)


class QueryStringLimit:
    """Middleware: the limit is read at each request, so a test or a reload may change it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SWITCHBOARD.max_query_string_bytes
        if query_string_bytes(request.META.get("QUERY_STRING", "")) > limit:
            return uri_too_long(limit)
        return self.get_response(request)
