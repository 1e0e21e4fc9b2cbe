"""Keeps credential values out of what a node returns or says (docs/architecture.md, Security)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"


class Redactor:
    """Replaces every secret value, as sent and as a server would echo it (URL-encoded,
    JSON-escaped), in text and in any JSON value, keys included."""

    def __init__(self, secrets: Iterable[str]):
        forms: set[str] = set()
        for value in secrets:
            if value:
                forms |= {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        # Longest first, so a secret that contains another is replaced whole.
        self.forms = sorted(forms, key=len, reverse=True)

    def add(self, secrets: Iterable[str]) -> None:
        """More values to hide: what the node's templates made of a secret."""
        self.forms = sorted({*self.forms, *Redactor(secrets).forms}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def text(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        if not self.forms:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(key)): self.value(child) for key, child in value.items()}
        if isinstance(value, list):
            return [self.value(child) for child in value]
        return value
