"""Keeps provider keys out of every message we build from a vendor's error."""

from __future__ import annotations

import re

from django.conf import settings

_SECRET_SHAPES = re.compile(r"(?i)(bearer\s+|api[-_]?key[\"'=:\s]+|x-goog-api-key[\"'=:\s]+|[?&]key=)[^\s\"'&,;]+")
MAX_MESSAGE_CHARS = 300


def configured_keys() -> list[str]:
    providers = settings.AI_PROVIDERS["PROVIDERS"].values()
    return [p["api_key"] for p in providers if p.get("api_key") and len(p["api_key"]) >= 4]


def redact(text: object) -> str:
    """The text with every configured key and anything shaped like a credential removed, cut short."""
    message = str(text)
    for key in configured_keys():
        message = message.replace(key, "[redacted]")
    message = _SECRET_SHAPES.sub(lambda m: f"{m.group(1)}[redacted]", message)
    return message[:MAX_MESSAGE_CHARS]
