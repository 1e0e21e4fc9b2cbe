"""Signed deliveries, Stripe style: `X-Switchboard-Signature: t=<unix seconds>,v1=<hex>`
with v1 = HMAC-SHA256(secret, "<t>." + the raw body). Several v1 values may be sent (a
sender that rotates signs with both secrets); one matching the current secret, or the
previous one while its overlap lasts, is enough.

The HMAC is checked before the timestamp, so only a sender who holds the secret learns
that its clock is off. A signature that passed is remembered (Redis SET NX) for twice
the tolerance: sent again inside the window, it is refused as a replay."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from credentials_app.services import decrypt
from triggers_app.models import WebhookTrigger
from triggers_app.webhooks.errors import signature_refused, unavailable

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Switchboard-Signature"
# More v1 values than a rotation needs cost HMACs for nothing.
MAX_SIGNATURES = 4


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender sends (the docs' example and the tests use it)."""
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def parse_header(value: str) -> tuple[int | None, list[str]]:
    """(t, [v1, ...]) from the header; t None when it is missing or not a number."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        name, _, item = part.strip().partition("=")
        if name == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif name == "v1" and item:
            candidates.append(item.strip().lower())
    return timestamp, candidates[:MAX_SIGNATURES]


def valid_secrets(trigger: WebhookTrigger) -> list[str]:
    """The current secret, and the previous one while its overlap window lasts."""
    found = [decrypt(trigger.encrypted_secret)] if trigger.encrypted_secret else []
    until = trigger.previous_secret_expires_at
    if trigger.previous_encrypted_secret and until is not None and until > timezone.now():
        found.append(decrypt(trigger.previous_encrypted_secret))
    return found


def matching_signature(secrets: Iterable[str], body: bytes, timestamp: int, candidates: list[str]) -> str | None:
    """The candidate that a secret produced, compared in constant time; None if none did."""
    match = None
    for secret in secrets:
        expected = signature(secret, body, timestamp)
        for candidate in candidates:
            # Every comparison runs (no early exit): the time taken says nothing of which matched.
            if hmac.compare_digest(expected, candidate) and match is None:
                match = candidate
    return match


def verify(trigger: WebhookTrigger, header: str | None, body: bytes, now_s: float | None = None) -> None:
    """Raises HookRefused (401) unless the delivery is signed with a valid secret, inside
    the tolerance window, and not seen before. A hook without signing passes."""
    if not trigger.require_signature:
        return
    if not header:
        raise signature_refused("signature_missing", f"This hook requires the {SIGNATURE_HEADER} header.")
    timestamp, candidates = parse_header(header)
    secrets = valid_secrets(trigger)
    match = matching_signature(secrets, body, timestamp, candidates) if timestamp is not None else None
    if match is None or timestamp is None:
        raise signature_refused("signature_invalid", "The signature does not match the body and a secret of this hook.")
    now_s = time.time() if now_s is None else now_s
    if abs(now_s - timestamp) > trigger.signature_tolerance_s:
        raise signature_refused(
            "signature_expired",
            f"The signature's timestamp is more than {trigger.signature_tolerance_s} s from the server's clock.",
        )
    remember(trigger, match)


def replay_key(trigger: WebhookTrigger, match: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:hook-signature:{trigger.id}:{match}"


def remember(trigger: WebhookTrigger, match: str) -> None:
    """Refuses a signature seen inside the window; records it otherwise. Without Redis the
    delivery is refused with a 503 (the sender retries): letting it through would let
    replays through too."""
    ttl_s = max(1, 2 * trigger.signature_tolerance_s)
    try:
        first = get_redis_connection("default").set(replay_key(trigger, match), 1, nx=True, ex=ttl_s)
    except RedisError:
        logger.warning("could not check a webhook signature for replay; the delivery is refused", exc_info=True)
        raise unavailable("The hook cannot take deliveries right now; try again shortly.") from None
    if not first:
        raise signature_refused("signature_replayed", "This signature was already used; sign each delivery anew.")
