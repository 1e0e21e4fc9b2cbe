"""A hook's token (in its URL) and signing secret.

The token is 32 random bytes in URL-safe base64 behind `whk_` (256 bits: nothing to
guess). Only its SHA-256 is stored, as for API keys: the token is random, so a fast hash
leaks nothing, and the lookup on every delivery stays one indexed query. The signing
secret is kept encrypted with the credentials' keys: HMAC needs it back."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_PREFIX = "whk_"
TOKEN_PATTERN = re.compile(r"^whk_[A-Za-z0-9_-]{43}$")
SECRET_PREFIX = "whsec_"
# Characters of the token shown in lists (prefix included) so an owner can tell hooks apart.
SHOWN_CHARS = 10


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    return bool(TOKEN_PATTERN.match(text))


def shown_part(token: str) -> str:
    return token[:SHOWN_CHARS]
