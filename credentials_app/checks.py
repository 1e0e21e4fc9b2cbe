"""Start-up check of the credentials key (registered by the app, so `manage.py check`,
runserver, migrate and the launcher all run it)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from credentials_app.services import key_problem


@register()
def check_credentials_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A malformed SWITCHBOARD_CREDENTIALS_KEY stops the start, instead of every
    credential write answering 500 and every secret failing to decrypt."""
    problem = key_problem(settings.SWITCHBOARD.credentials_keys)
    return [Error(problem, id="config.E002")] if problem else []
