"""What a delivery log shows people: every request header and the start of the body,
with credentials taken out. Replays use Delivery.request, never these previews."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from outbound.redaction import REDACTED

BODY_PREVIEW_CHARS = 2048
HEADER_VALUE_CHARS = 256
MAX_HEADERS = 64
# Header names whose values are credentials, whatever else they are called.
_SECRET_HEADER = re.compile(r"(?i)authorization|cookie|signature|secret|token|key|auth|session|password")
# JSON keys, query names and form fields whose values are credentials.
_SECRET_KEY = re.compile(r"(?i)password|passwd|secret|token|api[-_]?key|authorization|private[-_]?key|credential")
# In text that is not JSON: `name=value`, `"name": "value"`, `name: value`.
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (["']?(?:[a-z0-9_-]*(?:password|passwd|secret|token|api[-_]?key|authorization|credential)[a-z0-9_-]*)["']?
     \s*[:=]\s*["']?)
    ([^"'&\s,;}]+)
    """
)


def headers_preview(headers: Mapping[str, str]) -> dict[str, str]:
    preview: dict[str, str] = {}
    for name, value in list(headers.items())[:MAX_HEADERS]:
        preview[name] = REDACTED if _SECRET_HEADER.search(name) else value[:HEADER_VALUE_CHARS]
    return preview


def redact_value(value: Any) -> Any:
    """A JSON value with the values of secret-looking keys replaced, at any depth."""
    if isinstance(value, dict):
        return {key: REDACTED if _SECRET_KEY.search(str(key)) else redact_value(child) for key, child in value.items()}
    if isinstance(value, list):
        return [redact_value(child) for child in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def body_preview(body: Any = None, raw: bytes | None = None) -> str:
    """The first 2 KB of the body as parsed (JSON or text), or of its raw bytes when it
    was refused before it was read; redacted before it is cut, so a secret cut in two
    cannot slip through."""
    if body is not None and not isinstance(body, str):
        text = json.dumps(redact_value(body), ensure_ascii=False)
    elif isinstance(body, str):
        text = redact_text(body)
    elif raw:
        text = redact_text(raw[: BODY_PREVIEW_CHARS * 4].decode("utf-8", errors="replace"))
    else:
        return ""
    return text[:BODY_PREVIEW_CHARS]
