"""factory-boy factories: users, API keys (with their full text) and workflows (made by
the service, as users make them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts_app import api_key_format
from accounts_app.models import ApiKey, User
from tests.support.definitions import echo_definition
from workflows_app.models import Workflow
from workflows_app.services import workflow_create

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


class WorkflowFactory(factory.Factory):
    """Workflows are made by the service, as users make them (version 1 included)."""

    class Meta:
        model = Workflow

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"workflow {n}")
    description = ""
    is_active = True
    definition = factory.LazyFunction(echo_definition)

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Workflow:
        return workflow_create(**kwargs)

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Workflow:
        raise NotImplementedError("workflows are only created through workflow_create")
