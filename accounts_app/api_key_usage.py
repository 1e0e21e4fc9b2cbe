"""Finding an API key by its prefix and recording its use.

Imported by the authentication classes, which DRF loads while rest_framework.views is
still importing: this module must not import core.api (nor anything that does).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from accounts_app.models import ApiKey

# last_used_at is a hint for the owner, not an audit log: one write a minute per key
# instead of one per request.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def api_key_find_by_prefix(*, prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("user").filter(prefix=prefix).first()


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Records use, at most once per API_KEY_TOUCH_INTERVAL (the condition also keeps
    concurrent requests from writing twice)."""
    stale_before = now - API_KEY_TOUCH_INTERVAL
    if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
        return
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before), pk=api_key.pk).update(
        last_used_at=now
    )
    api_key.last_used_at = now
