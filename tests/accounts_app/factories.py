from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts_app import api_key_format
from accounts_app.models import ApiKey, User

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    # Hashed before the insert: a password set on a saved user is a password change.
    password = factory.LazyFunction(lambda: make_password(DEFAULT_PASSWORD))
    is_active = True


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """`ApiKeyFactory.create_with_key(...)` also returns the key's full text."""

    class Meta:
        model = ApiKey
        exclude = ["secret"]

    secret = factory.LazyFunction(api_key_format.new_secret)
    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    prefix = factory.LazyFunction(api_key_format.new_prefix)
    secret_hash = factory.LazyAttribute(lambda o: api_key_format.hash_secret(o.secret))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))

    @classmethod
    def create_with_key(cls, **kwargs) -> tuple[ApiKey, str]:
        secret = api_key_format.new_secret()
        api_key = cls.create(secret=secret, **kwargs)
        return api_key, f"{api_key.prefix}.{secret}"
