"""Turning what an SDK raised into our error classes (docs/concepts/ai-providers.md). Each adapter catches its
own SDK's exception types and hands status, headers and message to `from_status`."""

from __future__ import annotations

import json
import logging
import math
import traceback
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from time import time

import httpx
import httpx2  # a distribution of its own (pinned): the SDKs' transport, beside httpx
from celery.exceptions import SoftTimeLimitExceeded

from ai_providers.errors import (
    AuthOrConfig,
    BadRequest,
    InvalidJsonResponse,
    ProviderError,
    QuotaExhausted,
    Retryable,
)
from ai_providers.redaction import redact

logger = logging.getLogger(__name__)

# Raised into a call to stop the task, not by the provider: never mapped, always re-raised.
NOT_PROVIDER_ERRORS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded,)
# Parse failures of a reply the SDK accepted as HTTP 200 (a malformed body).
MALFORMED_REPLY_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError)
_QUOTA_WORDS = ("quota", "credits", "per day", "insufficient", "billing")


def retry_after_seconds(headers: Mapping[str, str] | None, body: object = None) -> float | None:
    """Seconds from `retry-after-ms`, `Retry-After` (seconds or an HTTP date) or a Google
    RetryInfo detail, at most a day; None when the vendor did not say (or said nonsense)."""
    if headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            if "retry-after-ms" in lowered:
                return _seconds(float(lowered["retry-after-ms"]) / 1000)
            if "retry-after" in lowered:
                value = lowered["retry-after"]
                try:
                    return _seconds(float(value))
                except ValueError:
                    return _seconds(parsedate_to_datetime(value).timestamp() - time())
        except (TypeError, ValueError, OverflowError):
            pass
    details = body.get("error", {}).get("details", []) if isinstance(body, dict) else []
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return _seconds(float(delay[:-1]))
            except ValueError:
                pass
    return None


MAX_RETRY_AFTER_S = 86_400.0


def _seconds(value: float) -> float | None:
    return min(max(0.0, value), MAX_RETRY_AFTER_S) if math.isfinite(value) else None


def vendor_message(body: object, fallback: str = "") -> str:
    """The human message inside a vendor's error body, whatever its shape."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return redact(str(body))[:200]  # redacted before it is cut: no part of a key survives
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or fallback)
        return str(error)
    return fallback


def from_status(
    provider: str,
    model: str,
    status: int,
    *,
    message: str = "",
    headers: Mapping[str, str] | None = None,
    body: object = None,
) -> ProviderError:
    """The error class for an HTTP status from a vendor."""
    text = f"{provider} answered HTTP {status}: {redact(message or 'no message')}"
    retry_after = retry_after_seconds(headers, body)
    lowered = message.lower()
    if status == 402 or (status == 429 and any(word in lowered for word in _QUOTA_WORDS)):
        return QuotaExhausted(provider, text, retry_after=retry_after, model=model)
    if status == 429:
        return Retryable(provider, text, code="rate_limited", retry_after=retry_after, model=model)
    if status in (401, 403):
        return AuthOrConfig(provider, text, model=model)
    if status == 404:
        return AuthOrConfig(provider, text, code="model_not_found", model=model)
    if status in (408, 409) or status >= 500:
        return Retryable(provider, text, code="server_error", retry_after=retry_after, model=model)
    if _error_code(body) == "json_validate_failed":  # Groq checks JSON mode's answer itself: a 400
        return InvalidJsonResponse(provider, text, model=model)
    return BadRequest(provider, text, model=model)


def _error_code(body: object) -> object:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def from_transport(provider: str, model: str, exc: BaseException) -> ProviderError | None:
    """Timeouts and connection failures of httpx/httpx2 (under every SDK); None otherwise."""
    if isinstance(exc, httpx.TimeoutException | httpx2.TimeoutException | TimeoutError):
        return Retryable(provider, f"{provider} did not answer in time.", code="timeout", model=model)
    if isinstance(exc, httpx.TransportError | httpx2.TransportError | ConnectionError):
        return Retryable(provider, f"{provider} could not be reached.", code="connection_error", model=model)
    return None


def unforeseen(provider: str, model: str, exc: Exception) -> ProviderError:
    """What an adapter raises for any other exception: timeouts and connection failures by
    type, anything else as retryable `unexpected_error` (an SDK bug or a reply it choked on
    may not recur on the next provider). The raw text can carry a key or a prompt, so only
    its redacted form is kept; the log gets the frames, without the message."""
    mapped = from_transport(provider, model, exc)
    if mapped is not None:
        return mapped
    detail = redact(f"{type(exc).__name__}: {exc}")
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.warning("%s/%s raised %s; traceback (message redacted):\n%s", provider, model, detail, frames)
    message = f"{provider} failed unexpectedly ({detail})."
    return Retryable(provider, message, code="unexpected_error", model=model)


def malformed(provider: str, model: str) -> Retryable:
    return Retryable(
        provider, f"{provider} sent a reply that could not be read.", code="malformed_response", model=model
    )


def missing_key(provider: str) -> AuthOrConfig:
    return AuthOrConfig(provider, f"{provider} is not configured (no key or base URL).", code="not_configured")
