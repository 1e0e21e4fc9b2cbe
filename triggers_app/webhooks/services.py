"""Writes on webhook triggers: create (the token and secret are shown once), change,
rotate with an overlap window, revoke. A delivery's own path is webhooks/ingest.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.api import ValidationFailed
from credentials_app.services import encrypt
from triggers_app.models import WebhookMode, WebhookTrigger
from triggers_app.templates_check import HOOK_MAPPING_ROOTS, HOOK_RESPONSE_ROOTS, check_templates
from triggers_app.webhooks import tokens
from workflows_app.selectors import workflow_get

MAX_SYNC_TIMEOUT_S = 30.0
MAX_ROTATION_OVERLAP_S = 7 * 86400
# Headers an owner's sync response may set; Content-Type comes from `content_type`, and
# X-Content-Type-Options and Content-Security-Policy are always ours.
RESPONSE_HEADER_NAMES = ["Cache-Control", "Content-Language", "ETag", "Last-Modified", "Retry-After", "X-Request-Id"]
RESPONSE_HEADERS_ALLOWED = frozenset(name.lower() for name in RESPONSE_HEADER_NAMES)
RESPONSE_CONTENT_TYPES = ("json", "text")
# Never handed to the mapping, whatever the owner lists: they carry credentials.
HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-switchboard-signature"})

EDITABLE_FIELDS = (
    "name",
    "require_signature",
    "signature_tolerance_s",
    "mode",
    "sync_timeout_s",
    "input_mapping",
    "response_template",
    "accept_text",
    "exposed_headers",
    "delivery_id_header",
    "rate_limit_per_minute",
    "max_body_bytes",
)


def _check(values: dict[str, Any]) -> None:
    if "input_mapping" in values:
        check_templates("input_mapping", values["input_mapping"], HOOK_MAPPING_ROOTS)
    template = values.get("response_template")
    if template is not None:
        check_response_template(template)
    if values.get("sync_timeout_s", 0) > MAX_SYNC_TIMEOUT_S:
        raise ValidationFailed(details={"sync_timeout_s": [f"At most {MAX_SYNC_TIMEOUT_S:g} seconds."]})
    hidden = sorted(set(h.lower() for h in values.get("exposed_headers", ())) & HIDDEN_HEADERS)
    if hidden:
        raise ValidationFailed(details={"exposed_headers": [f"Never exposed: {', '.join(hidden)}."]})


def check_response_template(template: dict[str, Any]) -> None:
    """A sync hook's answer: JSON or text only, headers from the allow-list (ROUND2 §4)."""
    unknown = sorted(set(template) - {"status", "content_type", "body", "headers"})
    if unknown:
        raise ValidationFailed(details={"response_template": [f"Unknown field: {', '.join(unknown)}."]})
    status = template.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 299:
        raise ValidationFailed(details={"response_template": ["`status` must be a 2xx status code."]})
    if template.get("content_type", "json") not in RESPONSE_CONTENT_TYPES:
        raise ValidationFailed(details={"response_template": ["`content_type` must be `json` or `text`."]})
    headers = template.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValidationFailed(details={"response_template": ["`headers` must map names to strings."]})
    refused = sorted(name for name in headers if name.lower() not in RESPONSE_HEADERS_ALLOWED)
    if refused:
        allowed = ", ".join(sorted(RESPONSE_HEADERS_ALLOWED))
        raise ValidationFailed(
            details={"response_template": [f"Headers not allowed: {', '.join(refused)} (allowed: {allowed})."]}
        )
    check_templates("response_template", template.get("body"), HOOK_RESPONSE_ROOTS)


def webhook_create(*, user: Any, workflow_id: Any, **values: Any) -> tuple[WebhookTrigger, str, str | None]:
    """A new hook on one of the user's workflows. Returns (trigger, token, secret): the
    token and the secret are shown this once."""
    workflow = workflow_get(user, workflow_id)
    values = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
    _check(values)
    token = tokens.new_token()
    secret = tokens.new_secret() if values.get("require_signature", True) else None
    trigger = WebhookTrigger.objects.create(
        owner=user,
        workflow=workflow,
        token_hash=tokens.hash_token(token),
        token_prefix=tokens.shown_part(token),
        encrypted_secret=encrypt(secret) if secret else "",
        **values,
    )
    return trigger, token, secret


def webhook_update(*, trigger: WebhookTrigger, **values: Any) -> tuple[WebhookTrigger, str | None]:
    """Changes what the owner may change. Turning signing on for a hook without a secret
    makes one; it is returned (shown once), else None."""
    values = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
    _check(values)
    for name, value in values.items():
        setattr(trigger, name, value)
    secret = None
    if trigger.require_signature and not trigger.encrypted_secret:
        secret = tokens.new_secret()
        trigger.encrypted_secret = encrypt(secret)
    trigger.save()
    return trigger, secret


def _overlap_until(overlap_s: int) -> Any:
    if not 0 <= overlap_s <= MAX_ROTATION_OVERLAP_S:
        raise ValidationFailed(details={"overlap_s": [f"From 0 to {MAX_ROTATION_OVERLAP_S} seconds."]})
    return timezone.now() + timedelta(seconds=overlap_s) if overlap_s else None


def webhook_rotate_token(*, trigger: WebhookTrigger, overlap_s: int = 0) -> tuple[WebhookTrigger, str]:
    """A new token; the old one keeps working for overlap_s seconds (0: not at all)."""
    until = _overlap_until(overlap_s)
    token = tokens.new_token()
    with transaction.atomic():
        trigger.previous_token_hash = trigger.token_hash if until else ""
        trigger.previous_token_expires_at = until
        trigger.token_hash = tokens.hash_token(token)
        trigger.token_prefix = tokens.shown_part(token)
        trigger.save()
    return trigger, token


def webhook_rotate_secret(*, trigger: WebhookTrigger, overlap_s: int = 0) -> tuple[WebhookTrigger, str]:
    """A new signing secret; signatures made with the old one pass for overlap_s seconds."""
    until = _overlap_until(overlap_s)
    secret = tokens.new_secret()
    trigger.previous_encrypted_secret = trigger.encrypted_secret if until else ""
    trigger.previous_secret_expires_at = until if trigger.encrypted_secret else None
    trigger.encrypted_secret = encrypt(secret)
    trigger.save()
    return trigger, secret


def webhook_revoke(*, trigger: WebhookTrigger) -> WebhookTrigger:
    """The hook answers 404 from now on, to every token it had; its log stays."""
    if trigger.revoked_at is None:
        trigger.revoked_at = timezone.now()
        trigger.previous_token_hash = ""
        trigger.save(update_fields=["revoked_at", "previous_token_hash", "updated_at"])
    return trigger


def is_sync(trigger: WebhookTrigger) -> bool:
    return trigger.mode == WebhookMode.SYNC
