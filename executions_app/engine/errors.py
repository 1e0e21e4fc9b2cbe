"""How a node's exception becomes the error a user reads on the node run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class NodeError:
    code: str
    message: str
    retryable: bool
    retry_after_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", storable(self.message))

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def storable(text: str) -> str:
    """The text with what the database cannot store written as escapes: a NUL (PostgreSQL's
    jsonb refuses it) and a lone surrogate (strict UTF-8 refuses it). Both reach messages
    from outside: an HTTP error body, a vendor's reply."""
    if "\x00" in text:
        text = text.replace("\x00", "\\u0000")
    try:
        text.encode()
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode()
    return text


class NodeFailure(Exception):
    """Raised by the engine or a node for a failure it can name."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after_s: float | None = None):
        super().__init__(message)
        self.code, self.message, self.retryable, self.retry_after_s = code, message, retryable, retry_after_s


def classify(exc: BaseException) -> NodeError:
    """Errors that carry a `code` are the node's own words; anything else is a bug or an
    outage we did not foresee: logged with its traceback, retried if the node allows it."""
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        message = str(getattr(exc, "message", None) or exc)[:MAX_MESSAGE_CHARS]
        retryable = bool(getattr(exc, "retryable", False))
        return NodeError(code, message, retryable, getattr(exc, "retry_after_s", None))
    if type(exc).__name__ == "SoftTimeLimitExceeded":  # Celery's backstop under prefork
        return NodeError("node_timeout", "The node ran past its time limit.", retryable=True)
    if type(exc).__name__ == "ExpressionError":
        return NodeError("expression_error", str(exc)[:MAX_MESSAGE_CHARS], retryable=False)
    logger.exception("node raised an unexpected error")
    return NodeError("internal_error", f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE_CHARS], retryable=True)
