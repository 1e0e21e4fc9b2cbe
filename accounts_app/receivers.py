"""Keeps the authentication cache honest: whatever changes or deletes a user (services,
the admin, a shell) drops its cached copy, so a deactivation takes effect at once."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts_app.models import User
from accounts_app.user_cache import user_cache_forget


@receiver(post_save, sender=User, dispatch_uid="accounts_user_cache_forget_on_save")
@receiver(post_delete, sender=User, dispatch_uid="accounts_user_cache_forget_on_delete")
def forget_cached_user(*, instance: User, **kwargs: Any) -> None:
    user_id = instance.pk
    user_cache_forget(user_id=user_id)
    # Again after the commit: its new generation fences off the entry of any request that
    # read the old row before the commit, however late that request writes it.
    transaction.on_commit(lambda: user_cache_forget(user_id=user_id))
