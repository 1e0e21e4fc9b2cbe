"""The public pages of signed approval links, /approvals/<token> (config/urls.py). No
account: the token is the credential, so the access log and our logs redact it
(core/access_log.py, core/log_filters.py). A GET never decides (mail and chat link
scanners open links): it shows a confirmation page whose form POSTs, with its CSRF
token, to decide once. Refusals answer HTML, or the JSON error shape to a client that
asks for JSON."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.api import AppError, error_body
from executions_app.approvals import links

# The page's URL is a credential: not sent on as a referer, not cached, not indexed.
PAGE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
TEMPLATE = "executions_app/approval_link.html"


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _protected(response: HttpResponse) -> HttpResponse:
    for name, value in PAGE_HEADERS.items():
        response[name] = value
    return response


def _refused(request: HttpRequest, exc: AppError) -> HttpResponse:
    if _wants_json(request):
        return _protected(JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code))
    context = {"refused": exc.message, "code": exc.code}
    return _protected(render(request, TEMPLATE, context, status=exc.status_code))


@require_http_methods(["GET", "POST"])
def approval_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            comment = request.POST.get("comment", "").strip() or None
            decision = links.link_use(token, comment=comment)
            if _wants_json(request):
                return _protected(JsonResponse({"decision": decision["decision"], "at": decision["at"]}))
            return _protected(render(request, TEMPLATE, {"done": decision}))
        link, found = links.link_get(token)
        links.ensure_waiting(found, timezone.now())
    except AppError as exc:
        return _refused(request, exc)
    state = found.run.state or {}
    context = {
        "decision": link.decision,
        "workflow_name": found.execution.workflow.name,
        "message": state.get("message", ""),
        "data": json.dumps(state["data"], indent=2, ensure_ascii=False) if state.get("data") is not None else "",
        "expires_at": link.expires_at,
    }
    return _protected(render(request, TEMPLATE, context))
