"""The errors of an outside call, in the shape the engine's classify() reads."""

from __future__ import annotations

import httpx


class HttpCallError(Exception):
    """A call that failed or was refused; `code` is stable, `message` safe to show."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after_s: float | None = None):
        super().__init__(message)
        self.code, self.message, self.retryable, self.retry_after_s = code, message, retryable, retry_after_s


def refused(message: str) -> HttpCallError:
    return HttpCallError("url_not_allowed", message)


def transport_failure(exc: Exception) -> str:
    """What went wrong, for a message, without the exception's own text where it may
    quote the request or the answer (h11 quotes a bad header as a bytes repr, whose
    escapes hide a secret from redaction). Connection, TLS and OS errors keep their
    text: it names the cause and never carries request or response data."""
    if isinstance(exc, httpx.LocalProtocolError):
        if "header" in str(exc).lower():
            return "a header name or value holds a character HTTP does not allow (a line break or control character)"
        return "the request is not valid HTTP/1.1"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke the HTTP protocol or closed the connection early"
    if isinstance(exc, httpx.ProtocolError | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return type(exc).__name__
    return str(exc) or type(exc).__name__
