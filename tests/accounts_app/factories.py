from __future__ import annotations

import factory

from accounts_app.models import User

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)
    is_active = True

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
