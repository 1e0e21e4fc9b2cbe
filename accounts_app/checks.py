"""Start-up checks: a malformed rate would otherwise fail every request with a 500."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from accounts_app.throttles import parse_rate, throttle_rates

THROTTLE_SCOPES = ("user", "anon", "login", "register")


@register()
def check_throttle_rates(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    rates = throttle_rates()
    problems: list[CheckMessage] = []
    for scope in THROTTLE_SCOPES:
        rate = rates.get(scope)
        try:
            if rate is not None:  # None switches a limit off
                parse_rate(rate)
        except (ValueError, KeyError, IndexError, AttributeError):
            problems.append(
                Error(
                    f"Throttle rate {rate!r} for scope {scope!r} is not like '10/min'.",
                    hint=f"Set SWITCHBOARD_THROTTLE_{scope.upper()} to <count>/<s|min|hour|day>.",
                    id="accounts.E001",
                )
            )
    return problems
