"""Writes of the accounts app: registration, tokens, API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts_app import api_key_format
from accounts_app.errors import InvalidCredentials, InvalidRefreshToken, RegistrationClosed
from accounts_app.models import ApiKey, User
from accounts_app.tokens import STALE_TOKEN_MESSAGE, refresh_token_for, token_is_current
from core.api import ValidationFailed


def registration_check_open() -> None:
    if not settings.OPEN_REGISTRATION:
        raise RegistrationClosed()


def password_problems(data: Any) -> dict[str, list[str]]:
    """The password validators' complaints about a sign-up body that fails elsewhere too,
    so every problem is told at once; {} when there is no usable password to judge."""
    if not isinstance(data, dict) or not isinstance(data.get("password"), str) or len(data["password"]) > 256:
        return {}
    name, email = data.get("username"), data.get("email")
    probe = User(username=name if isinstance(name, str) else "", email=email if isinstance(email, str) else "")
    try:
        validate_password(data["password"], user=probe)
    except DjangoValidationError as exc:
        return {"password": list(exc.messages)}
    return {}


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    """Self-service sign-up: the Django password validators apply; a username or email
    already taken (in any letter case) is refused."""
    registration_check_open()
    email = User.objects.normalize_email(email)
    problems: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        problems["username"] = ["A user with that username already exists."]
    if User.objects.filter(email__iexact=email).exists():
        problems["email"] = ["A user with that email already exists."]
    try:
        validate_password(password, user=User(username=username, email=email))
    except DjangoValidationError as exc:
        problems["password"] = list(exc.messages)
    if problems:
        raise ValidationFailed(details=problems)
    user = User(username=username, email=email)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent sign-up took the name between the check and the insert
        raise ValidationFailed(details={"username": ["A user with that username or email already exists."]}) from None
    return user


def user_deactivate(*, user: User) -> User:
    """The user's tokens and API keys stop working with the next request."""
    user.is_active = False
    user.save(update_fields=["is_active"])  # the post_save receiver drops the cached user
    return user


def user_change_password(
    *, user: User, current_password: str, new_password: str, revoke_api_keys: bool = False
) -> dict[str, str]:
    """Sets a new password and answers a fresh `{access, refresh}`. Every token issued
    before stops working at once (the user's token generation moves on), and so do the
    user's other browser sessions (Django's session hash). API keys stay unless
    `revoke_api_keys`: they are separate credentials, often held by scripts."""
    user = User.objects.get(pk=user.pk)  # the password hash: the cached user has none
    if not user.check_password(current_password):
        raise ValidationFailed(details={"current_password": ["The current password is not correct."]})
    checked_hash = user.password  # after check_password, which may have upgraded it
    if new_password == current_password:  # it would sign out every session for nothing
        raise ValidationFailed(details={"new_password": ["The new password must differ from the current one."]})
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(details={"new_password": list(exc.messages)}) from None
    user.set_password(new_password)  # hashed here, not while the row is locked
    with transaction.atomic():
        # A change that committed since the check above made the current password a
        # different one: this request no longer knows it.
        if (
            User.objects.select_for_update().filter(pk=user.pk).values_list("password", flat=True).first()
            != checked_hash
        ):
            raise ValidationFailed(details={"current_password": ["The current password is not correct."]})
        user.save(update_fields=["password"])  # moves the token generation on
        if revoke_api_keys:
            ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return _token_pair(refresh_token_for(user))


def token_pair_obtain(*, username: str, password: str) -> dict[str, str]:
    """`{access, refresh}` for a username (or email) and password."""
    user = authenticate(username=username, password=password)
    if user is None and "@" in username:
        owner = User.objects.filter(email__iexact=username).values_list("username", flat=True).first()
        if owner is not None:
            user = authenticate(username=owner, password=password)
    if user is None:  # wrong password, unknown or deactivated user: one answer
        raise InvalidCredentials()
    return _token_pair(refresh_token_for(user))


def token_pair_refresh(*, refresh: str) -> dict[str, str]:
    """A new `{access, refresh}`; the refresh token given is blacklisted, so it works once."""
    token = _valid_refresh_token(refresh)
    user_id: Any = token.payload.get(jwt_settings.USER_ID_CLAIM)  # a claim: any JSON value, or None
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        raise InvalidRefreshToken("The account of this token is deactivated or deleted.")
    if not token_is_current(token, user):
        raise InvalidRefreshToken(STALE_TOKEN_MESSAGE)
    with transaction.atomic():
        # The row lock makes two concurrent refreshes with one token take turns, so only
        # the first gets a new pair (simplejwt's own check-then-blacklist lets both pass).
        outstanding = _outstanding_token_locked(token, user)
        _, blacklisted_now = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not blacklisted_now:
            raise InvalidRefreshToken()
        return _token_pair(refresh_token_for(user))


def refresh_token_blacklist(*, refresh: str) -> None:
    """Logout: the refresh token stops working (access tokens live out their short life)."""
    token = _valid_refresh_token(refresh)
    user_id: Any = token.payload.get(jwt_settings.USER_ID_CLAIM)  # a claim: any JSON value, or None
    user = User.objects.filter(pk=user_id).first()
    if user is not None and not token_is_current(token, user):  # dead since a password change
        raise InvalidRefreshToken(STALE_TOKEN_MESSAGE)
    token.blacklist()


def _valid_refresh_token(raw: str) -> RefreshToken:
    try:
        # simplejwt annotates `token` as Token | None; it takes the encoded token (its documented use).
        return RefreshToken(raw)  # type: ignore[arg-type]  # signature, expiry, type and blacklist
    except TokenError:
        raise InvalidRefreshToken() from None


def _outstanding_token_locked(token: RefreshToken, user: User) -> OutstandingToken:
    jti = token.payload[jwt_settings.JTI_CLAIM]
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).first()
    if outstanding is None:
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=jti,
            defaults={"user": user, "token": str(token), "expires_at": datetime_from_epoch(token.payload["exp"])},
        )
    return outstanding


def _token_pair(refresh: RefreshToken) -> dict[str, str]:
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def api_key_create(*, user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiKey, str]:
    """A new key and its full text `<prefix>.<secret>`, which is never shown again."""
    days = settings.API_KEY_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    now = timezone.now()
    secret = api_key_format.new_secret()
    for _attempt in range(5):  # 4 billion prefixes: a collision is rare, five in a row is a bug
        api_key = ApiKey(
            user=user,
            name=name,
            prefix=api_key_format.new_prefix(),
            secret_hash=api_key_format.hash_secret(secret),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        try:
            with transaction.atomic():
                api_key.save()
        except IntegrityError:
            continue
        return api_key, f"{api_key.prefix}.{secret}"
    raise RuntimeError("could not find a free API key prefix")


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Idempotent: revoking a revoked key keeps its first revocation time."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=api_key.revoked_at)
    return api_key
