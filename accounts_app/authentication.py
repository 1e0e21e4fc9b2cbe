"""The two ways to authenticate (docs/api/index.md): `Authorization: Bearer <access JWT>` and
`Authorization: Api-Key <prefix>.<secret>`. Every refusal is a 401 in the JSON error shape;
a header with another scheme (`Basic ...`) is left to the next class and ends anonymous.

DRF imports this module while rest_framework.views is still importing: nothing here may
import core.api or rest_framework.views (hence the small, separate helper modules)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts_app import api_key_format
from accounts_app.api_key_usage import api_key_find_by_prefix, api_key_touch
from accounts_app.models import ApiKey, User
from accounts_app.tokens import STALE_TOKEN_MESSAGE, token_is_current, token_is_newer
from accounts_app.user_cache import user_cache_forget, user_get_for_authentication

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from rest_framework.request import Request
    from rest_framework_simplejwt.tokens import Token

API_KEY_SCHEME = "Api-Key"


class CachedJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check, with the user read through the cache
    (settings.CACHE_TTL_USER); the cache entry is dropped whenever the user changes."""

    # simplejwt types the user of authenticate() and get_user() with a constrained TypeVar
    # on a class that is not generic: no concrete override matches it (hence the ignores).
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, Token] | None:  # type: ignore[override]
        # simplejwt's errors carry a nested dict as detail; the API answers one clear sentence.
        try:
            return super().authenticate(request)
        except InvalidToken:
            raise AuthenticationFailed("The access token is invalid or expired.", code="token_not_valid") from None
        except JWTAuthenticationFailed as exc:
            detail: Any = exc.detail
            if isinstance(detail, dict):
                detail = detail.get("detail", "")
            raise AuthenticationFailed(str(detail) or "The Authorization header is not valid.") from None

    # simplejwt annotates bytes, but returns None without the header, as this does.
    def get_header(self, request: Request) -> bytes | None:  # type: ignore[override]
        header = request.META.get(jwt_settings.AUTH_HEADER_NAME)
        if isinstance(header, str):
            try:
                header = header.encode(HTTP_HEADER_ENCODING)
            except UnicodeEncodeError:
                raise AuthenticationFailed("The Authorization header is not valid.") from None
        return header

    def get_raw_token(self, header: bytes) -> bytes | None:
        # The scheme is case-insensitive (RFC 9110), as it is for Api-Key.
        parts = header.split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Bearer <access token>'.")
        if parts[1].startswith(api_key_format.PREFIX.encode()) and b"." in parts[1]:
            raise AuthenticationFailed("This is an API key: send it as 'Authorization: Api-Key <key>'.")
        return parts[1]

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]  # see authenticate()
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        if user_id is None:
            raise AuthenticationFailed("The access token names no user.", code="token_not_valid")
        user = user_get_for_authentication(user_id=user_id)
        if user is not None and token_is_newer(validated_token, user):
            # Issued after a password change this cached copy predates (its invalidation
            # was lost, say, while Redis was unreachable): the database says.
            user_cache_forget(user_id=user_id)
            user = user_get_for_authentication(user_id=user_id)
        if user is None:
            raise AuthenticationFailed("The user of this token no longer exists.", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("This account is deactivated.", code="user_inactive")
        if not token_is_current(validated_token, user):
            raise AuthenticationFailed(
                STALE_TOKEN_MESSAGE,
                code="password_changed",
            )
        return user


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>`: the prefix finds the key, the secret's
    hash is compared in constant time; revoked and expired keys and deactivated users are
    refused. request.auth is the ApiKey."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() != API_KEY_SCHEME.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(f"The Authorization header must be '{API_KEY_SCHEME} <key>'.")
        parsed = api_key_format.parse_key(parts[1])
        if parsed is None:
            raise AuthenticationFailed(
                "The API key is malformed: expected 'sb_' and 8 hex characters, a dot, and the 43-character "
                "secret, as shown once when the key was created."
            )
        api_key = api_key_find_by_prefix(prefix=parsed.prefix)
        presented_hash = api_key_format.hash_secret(parsed.secret)
        if api_key is None or not hmac.compare_digest(presented_hash, api_key.secret_hash):
            raise AuthenticationFailed("The API key is not valid.")
        # Past the secret check, the caller owns the key: it may learn why it is refused.
        now = timezone.now()
        if api_key.is_revoked:
            raise AuthenticationFailed("The API key has been revoked.")
        if api_key.is_expired(now):
            raise AuthenticationFailed("The API key has expired.")
        if not api_key.user.is_active:
            raise AuthenticationFailed("This account is deactivated.", code="user_inactive")
        api_key_touch(api_key=api_key, now=now)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{API_KEY_SCHEME} realm="api"'
