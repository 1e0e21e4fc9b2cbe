"""A delivery's path: the token names a trigger, the request is checked (size, rate,
signature, content type), mapped to inputs, and becomes one execution, once per
delivery id; the answer is a 202, or for a sync hook the outputs when they come in time.

Checks run in the order that costs an attacker most and the owner least: the size and
the rate limit before anything is parsed (every call that names a trigger counts, so a
leaked token cannot fill the delivery log faster than the limit), the signature before
the body is read as JSON. Every refusal after the token named a trigger is logged as a
Delivery; a token that names none is a bare 404.

The owner's API calls `deliver_test` and `deliver_replay`."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.api import AppError, Conflict, NotFound, ValidationFailed
from executions_app.models import Execution
from executions_app.selectors import execution_wait
from executions_app.services import IDEMPOTENCY_KEY_MAX_CHARS, execution_create
from triggers_app.models import Delivery, DeliverySource, WebhookTrigger
from triggers_app.webhooks import metrics, tokens
from triggers_app.webhooks.errors import body_too_large
from triggers_app.webhooks.limits import check_rate, sync_wait_slot
from triggers_app.webhooks.mapping import HookRequest, exposed_headers, map_inputs, parse_body
from triggers_app.webhooks.previews import body_preview, headers_preview
from triggers_app.webhooks.replies import HookAnswer, accepted, finished, refused
from triggers_app.webhooks.services import MAX_SYNC_TIMEOUT_S, is_sync
from triggers_app.webhooks.signing import verify

IDEMPOTENCY_HEADER = "idempotency-key"


def trigger_for_token(token: str) -> WebhookTrigger:
    """The live trigger this token (or its predecessor, inside the rotation overlap)
    addresses. NotFound, the same answer, for an unknown or revoked token and for an
    archived or inactive workflow: a caller learns nothing about which."""
    if not tokens.looks_like_token(token):
        raise NotFound()
    digest = tokens.hash_token(token)
    trigger = (
        WebhookTrigger.objects.select_related("workflow", "owner")
        .filter(Q(token_hash=digest) | Q(previous_token_hash=digest, previous_token_expires_at__gt=timezone.now()))
        .filter(
            revoked_at__isnull=True,
            workflow__archived_at__isnull=True,
            workflow__is_active=True,
            owner__is_active=True,
        )
        .first()
    )
    if trigger is None:
        raise NotFound()
    return trigger


def body_limit(trigger: WebhookTrigger) -> int:
    return min(trigger.max_body_bytes, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def deliver_http(trigger: WebhookTrigger, token: str, request: HookRequest, *, too_large: bool = False) -> HookAnswer:
    """A call to POST /hooks/<token>, the trigger already found by trigger_for_token.
    `too_large`: the body was over body_limit() and was not read."""
    started = time.monotonic()
    received_at = timezone.now()
    preview = headers_preview(request.headers)
    stored: dict[str, Any] | None = None
    try:
        if too_large or len(request.body) > body_limit(trigger):
            raise body_too_large(body_limit(trigger))
        check_rate(trigger)
        verify(trigger, request.headers.get("x-switchboard-signature"), request.body)
        body = parse_body(trigger, request)
        stored = {"body": body, "query": request.query, "headers": exposed_headers(trigger, request.headers)}
        key = dedup_key(trigger, request.headers)
        delivery, shown, duplicate = accept(
            trigger, stored, key, received_at, DeliverySource.HTTP, preview, body_preview(body)
        )
    except AppError as exc:
        text = body_preview(stored["body"]) if stored else body_preview(raw=None if too_large else request.body)
        _refused_delivery(trigger, exc, started, DeliverySource.HTTP, stored, preview, text)
        return refused(exc.status_code, exc.code, exc.message, exc.details, getattr(exc, "headers", None))
    answer = accepted(shown, token, duplicate=duplicate)
    if is_sync(trigger):
        answer = _wait_for_outputs(trigger, shown, stored, duplicate=duplicate) or answer
    _finish(delivery, answer, started)
    return answer


def dedup_key(trigger: WebhookTrigger, headers: dict[str, str]) -> str | None:
    """The delivery's id: Idempotency-Key, else the header the owner named."""
    key = headers.get(IDEMPOTENCY_HEADER) or (
        headers.get(trigger.delivery_id_header.lower()) if trigger.delivery_id_header else None
    )
    key = (key or "").strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX_CHARS or "\x00" in key:
        raise ValidationFailed(
            f"A delivery id must be at most {IDEMPOTENCY_KEY_MAX_CHARS} characters, without NUL characters.",
            details={"Idempotency-Key": ["Not a usable delivery id."]},
        )
    return key


def accept(
    trigger: WebhookTrigger,
    stored: dict[str, Any],
    key: str | None,
    received_at: Any,
    source: str,
    preview: dict[str, str],
    body_text: str,
) -> tuple[Delivery, Delivery, bool]:
    """Logs the delivery and creates its execution in one transaction, or, for a delivery
    id seen in the last 24 h, logs a duplicate of the first and creates nothing. Returns
    (the new row, the row to answer with, duplicate?). Two racing duplicates meet at the
    unique (trigger, dedup_key): the loser answers as a duplicate of the winner."""
    fields = {"trigger": trigger, "source": source, "request": stored, "headers_preview": preview}
    fields["body_preview"] = body_text
    try:
        with transaction.atomic():
            first = _first_with_key(trigger, key) if key else None
            if first is not None:
                return _duplicate(first, fields), first, True
            execution, _ = execution_create(
                user=trigger.owner,
                workflow_id=trigger.workflow_id,
                inputs=map_inputs(trigger, stored, received_at),
                trigger=f"webhook:{trigger.id}",
                idempotency_key=_execution_key(trigger, key),
                # Read with the trigger; the delivery id was looked up just above.
                workflow=trigger.workflow,
                key_is_new=True,
            )
            # Made with its execution, one INSERT: a racing duplicate's row fails on the
            # (trigger, dedup_key) constraint and takes its execution down with it.
            delivery = Delivery.objects.create(dedup_key=key, execution=execution, **fields)
            return delivery, delivery, False
    except IntegrityError:
        if not key:
            raise
    with transaction.atomic():
        first = _first_with_key(trigger, key)
        if first is None:
            raise Conflict("Another delivery with this id is being taken; send it again.", code="delivery_conflict")
        return _duplicate(first, fields), first, True


def _first_with_key(trigger: WebhookTrigger, key: str) -> Delivery | None:
    """The delivery first logged under this id, while the id is kept (24 h); an older one
    gives up its id, and the new delivery counts as new."""
    first = Delivery.objects.filter(trigger=trigger, dedup_key=key).first()
    if first is None:
        return None
    if first.received_at < timezone.now() - timedelta(seconds=settings.SWITCHBOARD.idempotency_ttl_s):
        # Its execution's derived key goes with it: made a moment later, it would
        # otherwise still hold for that moment and answer with the old execution.
        Delivery.objects.filter(id=first.id).update(dedup_key=None)
        if first.execution_id is not None:
            Execution.objects.filter(id=first.execution_id).update(idempotency_key=None)
        return None
    return first


def _duplicate(first: Delivery, fields: dict[str, Any]) -> Delivery:
    return Delivery.objects.create(duplicate_of=first, execution_id=first.execution_id, **fields)


def _execution_key(trigger: WebhookTrigger, key: str | None) -> str | None:
    """The execution's own idempotency key, derived: a second line of defence should the
    delivery rows ever disagree, and never the sender's raw text in the owner's keys."""
    if not key:
        return None
    return f"webhook:{trigger.id}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def _wait_for_outputs(
    trigger: WebhookTrigger, shown: Delivery, stored: dict[str, Any] | None, *, duplicate: bool
) -> HookAnswer | None:
    """The sync answer when the execution ends within the hook's wait; None (the 202 with
    the status URL) past it, or at once when no wait slot is free."""
    execution_id = shown.execution_id
    if execution_id is None:
        return None
    timeout_s = min(trigger.sync_timeout_s, MAX_SYNC_TIMEOUT_S)
    with sync_wait_slot(trigger.owner_id, timeout_s) as may_wait:
        done = execution_wait(execution_id, timeout_s if may_wait else 0)
    if not done:
        return None
    execution = Execution.objects.get(id=execution_id)
    seen = {**(stored or {}), "trigger": {"id": str(trigger.id), "received_at": shown.received_at.isoformat()}}
    return finished(shown, execution, trigger.response_template, seen, duplicate=duplicate)


def _finish(delivery: Delivery, answer: HookAnswer, started: float) -> None:
    latency_ms = int((time.monotonic() - started) * 1000)
    Delivery.objects.filter(id=delivery.id).update(
        response_status=answer.status, error_code=answer.error_code, latency_ms=latency_ms
    )
    delivery.response_status, delivery.error_code, delivery.latency_ms = answer.status, answer.error_code, latency_ms
    metrics.count_delivery(delivery.trigger_id, answer.status)


def _refused_delivery(
    trigger: WebhookTrigger,
    exc: AppError,
    started: float,
    source: str,
    stored: dict[str, Any] | None,
    preview: dict[str, str],
    body_text: str,
) -> Delivery:
    delivery = Delivery.objects.create(
        trigger=trigger,
        source=source,
        response_status=exc.status_code,
        error_code=exc.code,
        latency_ms=int((time.monotonic() - started) * 1000),
        request=stored,
        headers_preview=preview,
        body_preview=body_text,
    )
    metrics.count_delivery(trigger.id, exc.status_code)
    return delivery


def _deliver_owned(trigger: WebhookTrigger, stored: dict[str, Any], source: str) -> Delivery:
    """A delivery the owner sends: no signature, no rate limit, no delivery id, no wait.
    Always returns the logged row; a refusal (mapping, inputs) is its status and code."""
    started = time.monotonic()
    try:
        delivery, _, _ = accept(trigger, stored, None, timezone.now(), source, {}, body_preview(stored.get("body")))
    except AppError as exc:
        return _refused_delivery(trigger, exc, started, source, stored, {}, body_preview(stored.get("body")))
    _finish(delivery, HookAnswer(202, None), started)
    return delivery


def deliver_test(trigger: WebhookTrigger, body: dict) -> Delivery:
    """The owner's test delivery: `body` as if it had been posted as JSON."""
    return _deliver_owned(trigger, {"body": body, "query": {}, "headers": {}}, DeliverySource.TEST)


def deliver_replay(delivery: Delivery) -> Delivery:
    """A logged delivery sent again: its stored request mapped with the hook's current
    mapping, a new execution. Conflict (409 not_replayable) for a delivery refused
    before its body was read (nothing was kept)."""
    if not delivery.request:
        raise Conflict(
            "This delivery was refused before its body was read; there is nothing to replay.", code="not_replayable"
        )
    return _deliver_owned(delivery.trigger, dict(delivery.request), DeliverySource.REPLAY)


def delivery_for_token(trigger: WebhookTrigger, delivery_id: Any) -> Delivery:
    """One of this trigger's deliveries; NotFound for any other id."""
    try:
        found = Delivery.objects.select_related("execution").filter(trigger=trigger, id=delivery_id).first()
    except (ValueError, ValidationError):
        found = None
    if found is None:
        raise NotFound()
    return found
