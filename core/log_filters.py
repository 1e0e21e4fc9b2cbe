"""Logging filters named by config/settings_logging.py."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable


class RateLimitedWarning(logging.Filter):
    """For lines any anonymous client can cause at will, such as Django's for a request
    body over the size limit (logged at ERROR, with a traceback, by
    `django.security.RequestDataTooBig`): each becomes a WARNING without its traceback, and
    at most one passes every `interval_s` seconds in this process. The next one that
    passes says how many were held back meanwhile.

    The answer to the client is unchanged (the JSON 413); only the log is spared."""

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._held_back = 0

    def reset(self) -> None:
        with self._lock:
            self._last, self._held_back = None, 0

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            now = self.clock()
            if self._last is not None and now - self._last < self.interval_s:
                self._held_back += 1
                return False
            held_back, since = self._held_back, None if self._last is None else now - self._last
            self._last, self._held_back = now, 0
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        if held_back:
            record.msg = f"{record.getMessage()} ({held_back} more like it in the last {since:.0f} s, not logged)"
            record.args = ()
        return True


# `/hooks/` or `/approvals/` and everything up to the next `/`, `?`, `#`, space or quote:
# a hook's token, or a signed approval link's.
HOOK_TOKEN = re.compile(r"(/(?:hooks|approvals)/)[^/?#\s\"']+")


def redact_hook_tokens(text: str) -> str:
    return HOOK_TOKEN.sub(r"\1<redacted>", text)


class RedactHookTokens(logging.Filter):
    """Takes hook and approval-link tokens out of every line (Django's "Not Found:
    /hooks/<token>" and the like): such a URL is its credential. On the handler, so it sees every logger's
    records. Never drops a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hooks/" in message or "/approvals/" in message:
            record.msg, record.args = redact_hook_tokens(message), ()
        return True
