"""Why a hook refused a delivery, as the JSON error shape (core/api.py). Every refusal
after the token named a trigger is logged as a Delivery with its status and code."""

from __future__ import annotations

from typing import Any

from core.api import AppError


class HookRefused(AppError):
    """A delivery refused with `status_code` and `code`; `headers` are added to the answer."""

    def __init__(
        self, status: int, code: str, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message, details=details, code=code)
        self.status_code = status
        self.headers = headers or {}


def signature_refused(code: str, message: str) -> HookRefused:
    return HookRefused(401, code, message)


def body_too_large(limit: int) -> HookRefused:
    return HookRefused(
        413, "body_too_large", f"The body is over this hook's limit of {limit} bytes.", details={"limit_bytes": limit}
    )


def throttled(limit: int, retry_after_s: int) -> HookRefused:
    return HookRefused(
        429,
        "throttled",
        f"This hook takes at most {limit} deliveries a minute.",
        details={"retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )


def unsupported_media_type(content_type: str) -> HookRefused:
    return HookRefused(
        415,
        "unsupported_media_type",
        f"This hook takes JSON (application/json), not {content_type or 'a body without a Content-Type'}.",
    )


def parse_error(message: str) -> HookRefused:
    return HookRefused(400, "parse_error", message)


def mapping_failed(message: str) -> HookRefused:
    return HookRefused(400, "mapping_failed", message)


def unavailable(message: str) -> HookRefused:
    # A 503: the sender retries it later, as it should (nothing was accepted).
    return HookRefused(503, "hook_unavailable", message)
