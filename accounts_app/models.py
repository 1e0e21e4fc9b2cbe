from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils import timezone


class User(AbstractUser):
    # Declared by AbstractBaseUser (a new raw password until saved), missing from django-stubs.
    _password: str | None
    """A person or service that owns workflows; email is unique so it can log in too."""

    email = models.EmailField(unique=True)
    # Moves on with every new password; JWTs carry the value they were issued under
    # (claim `gen`) and stop working once it moves on, so a password change signs out
    # every other holder of a token (accounts_app/tokens.py).
    token_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        db_table = "accounts_user"

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_disabled = True  # an administrator turning sign-in off: tokens end too

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `_password` holds a new raw password until it is saved; Django clears it before
        # saving a mere hash upgrade at login, which therefore keeps the tokens alive.
        replaced = self._password is not None or getattr(self, "_password_disabled", False)
        update_fields = kwargs.get("update_fields")
        if not replaced or self._state.adding or (update_fields is not None and not update_fields):
            super().save(*args, **kwargs)
            return
        with transaction.atomic(using=kwargs.get("using")):
            # Read under the row lock: two changes at once each move the generation on.
            current = type(self).objects.select_for_update().filter(pk=self.pk).values_list("token_generation")
            self.token_generation = (current.first() or (self.token_generation,))[0] + 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_generation"}
            super().save(*args, **kwargs)
        self._password_disabled = False


class ApiKey(models.Model):
    """A long-lived credential for scripts: `<prefix>.<secret>`. The prefix is public and
    finds the row; only a hash of the secret is stored (see accounts_app/api_key_format.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)  # unique implies an index
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_api_key"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_apikey_user_created")]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, at: datetime | None = None) -> bool:
        return self.expires_at <= (at or timezone.now())
