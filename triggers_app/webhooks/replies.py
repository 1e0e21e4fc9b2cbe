"""What a hook answers: the 202 with the status URL, a sync delivery's outputs or the
owner's response template (JSON or text only, allow-listed headers: ROUND2 §4), and the
token-scoped status of a delivery. Every answer carries the same protective headers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from core.api import error_body
from executions_app.models import Execution, ExecutionStatus
from triggers_app.models import Delivery
from triggers_app.templates_check import HOOK_RESPONSE_ROOTS
from triggers_app.webhooks.services import RESPONSE_HEADERS_ALLOWED
from workflows_app.expressions import ExpressionError, compile_value, render_value, to_text

logger = logging.getLogger(__name__)

# An owner's page is served from the studio's origin: it must never be sniffed into
# HTML, run scripts, or be cached by a shared cache.
PROTECTIVE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cache-Control": "no-store",
}


@dataclass
class HookAnswer:
    status: int
    body: Any
    # "json" or "text" (text/plain; charset=utf-8)
    content_type: str = "json"
    headers: dict[str, str] = field(default_factory=dict)
    # What the delivery log records when this answer is an error, or a template failed.
    error_code: str = ""


def status_path(token: str, delivery_id: Any) -> str:
    return f"/hooks/{token}/deliveries/{delivery_id}"


def accepted(delivery: Delivery, token: str, *, duplicate: bool = False) -> HookAnswer:
    body: dict[str, Any] = {
        "delivery_id": str(delivery.id),
        "execution_id": str(delivery.execution_id) if delivery.execution_id else None,
        "status_url": status_path(token, delivery.id),
    }
    if duplicate:
        body["duplicate"] = True
    return HookAnswer(202, body)


def refused(status: int, code: str, message: str, details: Any = None, headers: dict | None = None) -> HookAnswer:
    return HookAnswer(status, error_body(code, message, details), headers=dict(headers or {}), error_code=code)


def finished(
    delivery: Delivery, execution: Execution, template: dict | None, request: dict[str, Any], *, duplicate: bool
) -> HookAnswer:
    """A sync delivery whose execution ended. A failure is a 200 too: the delivery was
    received (a 5xx would make the sender send it again), and the owner's template is
    not applied to it."""
    base: dict[str, Any] = {"delivery_id": str(delivery.id), "execution_id": str(execution.id)}
    if duplicate:
        base["duplicate"] = True
    if execution.status != ExecutionStatus.COMPLETED:
        return HookAnswer(200, {**base, "status": execution.status, "error": execution.error})
    if not template:
        return HookAnswer(200, {**base, "status": execution.status, "outputs": execution.outputs})
    try:
        return templated(template, execution, request)
    except ExpressionError as exc:
        # The run succeeded; only the owner's template did not: the sender gets the outputs.
        logger.info("a webhook's response template failed: %s", exc)
        answer = HookAnswer(200, {**base, "status": execution.status, "outputs": execution.outputs})
        answer.error_code = "response_template_failed"
        return answer


def templated(template: dict, execution: Execution, request: dict[str, Any]) -> HookAnswer:
    compiled, problems = compile_value(template.get("body"), roots=HOOK_RESPONSE_ROOTS)
    if problems:
        raise problems[0][1]
    context = {
        "outputs": execution.outputs,
        "execution": {"id": str(execution.id), "status": execution.status},
        "body": request.get("body"),
        "query": request.get("query") or {},
        "headers": request.get("headers") or {},
        "trigger": request.get("trigger") or {},
    }
    rendered = render_value(compiled, context)
    content_type = "text" if template.get("content_type") == "text" else "json"
    headers = {
        name: value
        for name, value in (template.get("headers") or {}).items()
        if name.lower() in RESPONSE_HEADERS_ALLOWED and isinstance(value, str) and "\n" not in value
    }
    body = to_text(rendered) if content_type == "text" else rendered
    return HookAnswer(int(template.get("status", 200)), body, content_type, headers)


def delivery_status(delivery: Delivery) -> dict[str, Any]:
    """What the token-scoped status URL shows: the delivery and its execution's state."""
    found: dict[str, Any] = {"delivery_id": str(delivery.id), "received_at": delivery.received_at.isoformat()}
    execution = delivery.execution
    if execution is None:
        found.update(status="refused", execution_id=None, error={"code": delivery.error_code})
        return found
    found.update(status=execution.status, execution_id=str(execution.id))
    if execution.status == ExecutionStatus.COMPLETED:
        found["outputs"] = execution.outputs
    elif execution.status in (ExecutionStatus.FAILED, ExecutionStatus.CANCELED):
        found["error"] = execution.error
    return found
