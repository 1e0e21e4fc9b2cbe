from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person or service that owns workflows; email is unique so it can log in too."""

    email = models.EmailField(unique=True)

    class Meta:
        db_table = "accounts_user"
