"""The public, token-addressed hook routes: POST /hooks/<token> takes a delivery, GET
/hooks/<token>/deliveries/<id> shows one. Thin: the token is the only credential (no
cookie is read, so no CSRF), the work is in triggers_app/webhooks/ingest.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.api import AppError, error_body
from triggers_app.webhooks import ingest
from triggers_app.webhooks.mapping import HookRequest
from triggers_app.webhooks.replies import PROTECTIVE_HEADERS, HookAnswer, delivery_status

View = Callable[..., HttpResponse]


def hook_answer(*allowed: str) -> Callable[[View], View]:
    """Every hook answer, errors included, in the JSON error shape and with the protective
    headers; a method the route does not take is a JSON 405."""
    return lambda view: _answering(view, allowed)


def _answering(view: View, allowed: tuple[str, ...]) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in allowed:
            response: HttpResponse = JsonResponse(
                error_body("method_not_allowed", f"Method {request.method} is not allowed here."), status=405
            )
            response["Allow"] = ", ".join(allowed)
        else:
            try:
                response = view(request, *args, **kwargs)
            except AppError as exc:
                response = JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
        for name, value in PROTECTIVE_HEADERS.items():
            response[name] = value
        return response

    return csrf_exempt(wrapped)


def as_response(answer: HookAnswer) -> HttpResponse:
    response: HttpResponse
    if answer.content_type == "text":
        response = HttpResponse(str(answer.body), status=answer.status, content_type="text/plain; charset=utf-8")
    else:
        response = JsonResponse(answer.body, status=answer.status, safe=False)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def hook_request(request: HttpRequest, limit: int) -> tuple[HookRequest, bool]:
    """The request as ingest sees it, its body read up to `limit` bytes; True when the
    body is over the limit (then it is not read)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    query = {name: request.GET.getlist(name)[0] for name in request.GET}  # the first of repeated names
    found = HookRequest(content_type=request.META.get("CONTENT_TYPE") or "", query=query, headers=headers)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return found, True
    found.body = request.read(limit + 1)
    return found, len(found.body) > limit


@hook_answer("POST")
def deliver(request: HttpRequest, token: str) -> HttpResponse:
    trigger = ingest.trigger_for_token(token)
    found, too_large = hook_request(request, ingest.body_limit(trigger))
    return as_response(ingest.deliver_http(trigger, token, found, too_large=too_large))


@hook_answer("GET")
def delivery(request: HttpRequest, token: str, delivery_id: str) -> HttpResponse:
    trigger = ingest.trigger_for_token(token)
    return JsonResponse(delivery_status(ingest.delivery_for_token(trigger, delivery_id)))
