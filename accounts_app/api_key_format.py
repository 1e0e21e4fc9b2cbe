"""The API key format: `sb_` + 8 hex characters (the public prefix), a dot, and a secret of
32 random bytes in URL-safe base64 (43 characters)."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import NamedTuple

PREFIX = "sb_"
PREFIX_PATTERN = re.compile(r"^sb_[0-9a-f]{8}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


class ParsedKey(NamedTuple):
    prefix: str
    secret: str


def new_prefix() -> str:
    return PREFIX + secrets.token_hex(4)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # A plain SHA-256 is enough here, unlike for passwords: the secret is 256 random bits,
    # so there is nothing to guess from a leaked hash, and a slow hash (PBKDF2, argon2)
    # would only cost CPU on every authenticated request.
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw_key: str) -> ParsedKey | None:
    """The key's parts, or None when it does not have the shape of a key."""
    prefix, dot, secret = raw_key.partition(".")
    if not dot or not PREFIX_PATTERN.match(prefix) or not SECRET_PATTERN.match(secret):
        return None
    return ParsedKey(prefix, secret)
