"""From a delivery's request to the workflow's inputs: the body read by its content type,
and the owner's input mapping rendered over {body, query, headers, trigger}."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from core.json_text import format_path, text_problems, unstorable_problem
from triggers_app.models import WebhookTrigger
from triggers_app.templates_check import HOOK_MAPPING_ROOTS
from triggers_app.webhooks.errors import mapping_failed, parse_error, unsupported_media_type
from triggers_app.webhooks.services import HIDDEN_HEADERS
from workflows_app.expressions import ExpressionError, compile_value, render_value


@dataclass
class HookRequest:
    """What a delivery carried: the raw body, its Content-Type, the query (first value of
    each name) and every header (lower-case names)."""

    body: bytes = b""
    content_type: str = ""
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json(content_type: str) -> bool:
    kind = media_type(content_type)
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def parse_body(trigger: WebhookTrigger, request: HookRequest) -> Any:
    """The body as the mapping sees it: JSON for a JSON content type, else text when the
    hook accepts text (HookRefused 415 otherwise). An empty body without a content type is
    an empty object (a bare `curl -X POST`)."""
    if not request.body and not request.content_type:
        return {}
    if is_json(request.content_type):
        try:
            value = json.loads(request.body)
        except (ValueError, RecursionError) as exc:
            raise parse_error(f"The body is not valid JSON: {exc}") from None
    elif trigger.accept_text:
        try:
            value = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise parse_error("The body is not UTF-8 text.") from None
    else:
        raise unsupported_media_type(media_type(request.content_type))
    problems = text_problems(value, unstorable_problem, (), finite=True, max_depth=settings.SWITCHBOARD.max_json_depth)
    for loc, message in problems:
        raise parse_error(f"The body cannot be kept: {format_path(loc) or '(root)'}: {message}.")
    return value


def exposed_headers(trigger: WebhookTrigger, headers: Mapping[str, str]) -> dict[str, str]:
    """Only the headers the owner named, and never those that carry credentials."""
    names = {str(name).lower() for name in trigger.exposed_headers} - HIDDEN_HEADERS
    return {name: value for name, value in headers.items() if name in names}


def mapping_context(trigger: WebhookTrigger, request: dict[str, Any], received_at: Any) -> dict[str, Any]:
    """`request` is what a Delivery keeps: {body, query, headers (the exposed ones)}."""
    return {
        "body": request.get("body"),
        "query": request.get("query") or {},
        "headers": request.get("headers") or {},
        "trigger": {"id": str(trigger.id), "received_at": received_at.isoformat()},
    }


def map_inputs(trigger: WebhookTrigger, request: dict[str, Any], received_at: Any) -> dict[str, Any]:
    """The workflow's inputs; HookRefused (400 mapping_failed) when the mapping cannot be
    rendered, or when there is no mapping and the body is not a JSON object."""
    mapping = trigger.input_mapping or {}
    if not mapping:
        body = request.get("body")
        if not isinstance(body, dict):
            raise mapping_failed("The body is not a JSON object, and this hook has no input mapping to read it with.")
        return body
    compiled, problems = compile_value(mapping, roots=HOOK_MAPPING_ROOTS)
    if problems:
        loc, error = problems[0]
        raise mapping_failed(f"input_mapping.{format_path(loc)}: {error}")
    try:
        inputs = render_value(compiled, mapping_context(trigger, request, received_at))
    except ExpressionError as exc:
        raise mapping_failed(f"The input mapping failed: {exc}") from None
    if not isinstance(inputs, dict):
        raise mapping_failed("The input mapping must give an object of inputs.")
    return inputs
