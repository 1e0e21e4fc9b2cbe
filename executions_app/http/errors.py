"""The errors of an outside call, in the shape the engine's classify() reads."""

from __future__ import annotations


class HttpCallError(Exception):
    """A call that failed or was refused; `code` is stable, `message` safe to show."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after_s: float | None = None):
        super().__init__(message)
        self.code, self.message, self.retryable, self.retry_after_s = code, message, retryable, retry_after_s


def refused(message: str) -> HttpCallError:
    return HttpCallError("url_not_allowed", message)
