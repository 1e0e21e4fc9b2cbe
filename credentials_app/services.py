"""Credentials: named secrets, encrypted at rest, write-only through the API.

Values are Fernet tokens under SWITCHBOARD_CREDENTIALS_KEY (comma-separated keys, newest
first: MultiFernet encrypts with the first and decrypts with any, so a key is rotated by
putting the new one in front and running `credential_reencrypt_all()`). Without it a key
is derived from SECRET_KEY, which then must never change. That derived key always stays
a last key to decrypt with, so values stored before a key was first set stay readable
(and `credential_reencrypt_all()` moves them under it).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from core.api import Conflict, NotFound
from credentials_app.models import Credential

if TYPE_CHECKING:
    from uuid import UUID

logger = logging.getLogger(__name__)


class LoadedSecrets(dict[str, str]):
    """The decrypted values a node's templates may read, by name. `missing` lists the
    names the node references that its owner has no credential for; `unreadable` those
    the configured keys cannot decrypt (a key was removed, or the key setting is broken)."""

    def __init__(self, values: dict[str, str], missing: Iterable[str] = (), unreadable: Iterable[str] = ()):
        super().__init__(values)
        self.missing = tuple(sorted(missing))
        self.unreadable = tuple(sorted(unreadable))


# --- encryption ---------------------------------------------------------------------------


KEY_FORMAT_MESSAGE = (
    "SWITCHBOARD_CREDENTIALS_KEY holds comma-separated Fernet keys "
    "(each 32 url-safe base64-encoded bytes, e.g. from Fernet.generate_key())."
)


def derived_key(secret_key: str) -> str:
    digest = hashlib.sha256(b"switchboard credentials:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def key_problem(keys: Iterable[str]) -> str | None:
    """Why the configured keys cannot be used, or None (a system check asks at start)."""
    try:
        for key in keys:
            Fernet(key)
    except (ValueError, TypeError):
        return KEY_FORMAT_MESSAGE
    return None


@functools.cache
def _cipher_for(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    # The first key encrypts; the derived one is always the last to decrypt with.
    derived = derived_key(secret_key)
    try:
        return MultiFernet([Fernet(key) for key in dict.fromkeys([*keys, derived])])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(KEY_FORMAT_MESSAGE) from None


def cipher() -> MultiFernet:
    return _cipher_for(tuple(settings.SWITCHBOARD.credentials_keys), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return cipher().decrypt(token.encode()).decode()


# --- selectors ------------------------------------------------------------------------------


def credential_list(*, user: Any) -> QuerySet[Credential]:
    return Credential.objects.filter(owner=user).order_by("name")


def credential_get(*, user: Any, credential_id: Any) -> Credential:
    credential = Credential.objects.filter(owner=user, id=credential_id).first()
    if credential is None:
        raise NotFound("No such credential.")
    return credential


def secrets_for(*, owner_id: Any, names: Iterable[str]) -> LoadedSecrets:
    """The owner's credentials of these names, decrypted (one query). Never raises for a
    key problem: the node that needs the value reports it."""
    wanted = set(names)
    rows = Credential.objects.filter(owner_id=owner_id, name__in=wanted).values_list("name", "encrypted_value")
    values, unreadable = {}, set()
    for name, token in rows:
        try:
            values[name] = decrypt(token)
        except (InvalidToken, ImproperlyConfigured):
            unreadable.add(name)
    if unreadable:
        logger.error("credentials %s of user %s cannot be decrypted with the keys set", sorted(unreadable), owner_id)
    return LoadedSecrets(values, missing=wanted - set(values) - unreadable, unreadable=unreadable)


# --- services -------------------------------------------------------------------------------


def _name_taken(name: str) -> Conflict:
    return Conflict(f"You already have a credential named {name}.", code="credential_name_taken")


@transaction.atomic
def credential_create(*, user: Any, name: str, value: str, description: str = "") -> Credential:
    if Credential.objects.filter(owner=user, name=name).exists():
        raise _name_taken(name)
    try:
        with transaction.atomic():
            return Credential.objects.create(
                owner=user, name=name, description=description, encrypted_value=encrypt(value)
            )
    except IntegrityError:  # a concurrent create of the same name
        raise _name_taken(name) from None


@transaction.atomic
def credential_update(
    *, credential: Credential, name: str | None = None, value: str | None = None, description: str | None = None
) -> Credential:
    """Changes what is given; a value left out keeps the stored one."""
    if name is not None and name != credential.name:
        if Credential.objects.filter(owner_id=credential.owner_id, name=name).exclude(id=credential.id).exists():
            raise _name_taken(name)
        credential.name = name
    if description is not None:
        credential.description = description
    if value is not None:
        credential.encrypted_value = encrypt(value)
    try:
        with transaction.atomic():
            credential.save()
    except IntegrityError:
        raise _name_taken(credential.name) from None
    return credential


def credential_delete(*, credential: Credential) -> None:
    credential.delete()


def credential_reencrypt_all() -> tuple[int, list[UUID]]:
    """Re-encrypts every value under the first key (after a rotation). Returns how many it
    re-encrypted and the ids of those no configured key can read (left as they are). A
    value changed meanwhile is not overwritten: the update is conditional on the token."""
    count = 0
    unreadable: list[UUID] = []
    for credential in Credential.objects.only("id", "encrypted_value").iterator():
        old = credential.encrypted_value
        try:
            token = cipher().rotate(old.encode()).decode()
        except InvalidToken:
            unreadable.append(credential.id)
            continue
        count += Credential.objects.filter(id=credential.id, encrypted_value=old).update(encrypted_value=token)
    return count, unreadable
