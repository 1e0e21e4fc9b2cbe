"""Request rates kept in Redis (docs/architecture.md, Security): per user, per API key, per address for the
anonymous, and stricter per-address limits on login and register.

Each limit is a counter that starts with the first request and expires `duration` later
(INCR on a key made with SET NX and a TTL): atomic under concurrency, unlike DRF's
read-modify-write request history, which lets parallel login attempts slip past the limit.
The rates are read from settings on every request (not once at import as DRF's throttles
do), so settings changes and tests' overrides apply. A Redis outage lets requests through
(logged by core/resilient_cache.py) rather than refusing everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.core.cache import BaseCache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts_app.models import ApiKey
from core.resilient_cache import cache_call

if TYPE_CHECKING:  # rest_framework.views imports this module while it is loading
    from rest_framework.request import Request
    from rest_framework.views import APIView

_PERIODS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class _KeyTtl(Protocol):
    """The cache's ttl(): django-redis's RedisCache has it, Django's BaseCache does not."""

    def ttl(self, key: str) -> int | None: ...


def throttle_rates() -> dict[str, str | None]:
    """DRF's DEFAULT_THROTTLE_RATES: rates like "10/min", None for no limit. drf-stubs type
    its values as numbers."""
    return cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)


def parse_rate(rate: str) -> tuple[int, int]:
    """A rate like "10/min" as (10, 60); the period's first letter counts (s, m, h, d)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS_S[period.strip()[0].lower()]


def _count_request(cache: BaseCache, key: str, duration_s: int) -> int:
    for _attempt in range(2):
        cache.add(key, 0, duration_s)  # starts the window; a no-op while it runs
        try:
            return cache.incr(key)
        except ValueError:  # the window expired between add and incr: start a new one
            continue
    return 1


class RedisRateThrottle(BaseThrottle):
    scope: str = ""

    def __init__(self) -> None:
        self.retry_after_s: int | None = None

    def identity(self, request: Request) -> str | None:
        """Whose requests this limit counts, or None when it does not apply."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        rate = throttle_rates().get(self.scope)
        identity = self.identity(request)
        if not rate or identity is None:
            return True
        limit, duration_s = parse_rate(rate)
        key = f"throttle:{self.scope}:{identity}"
        count = cache_call(lambda c: _count_request(c, key, duration_s), default=None, what="throttle")
        if count is None or count <= limit:
            return True
        # None (an outage, or a key without expiry) stands for the whole window.
        ttl_s = cache_call(lambda c: cast("_KeyTtl", c).ttl(key), default=None, what="throttle ttl")
        self.retry_after_s = max(1, int(ttl_s or duration_s))
        return False

    def wait(self) -> int | None:
        return self.retry_after_s


class UserOrKeyRateThrottle(RedisRateThrottle):
    """Scope "user": one budget per API key when the request came with one, else per user."""

    scope = "user"

    def identity(self, request: Request) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}"
        return f"user:{request.user.pk}"


class AnonAddressRateThrottle(RedisRateThrottle):
    """Scope "anon": anonymous requests per address (the socket peer unless NUM_PROXIES)."""

    scope = "anon"

    def identity(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return f"addr:{self.get_ident(request)}"


class AddressRateThrottle(RedisRateThrottle):
    """Every request to the view per address, signed in or not."""

    def identity(self, request: Request) -> str | None:
        return f"addr:{self.get_ident(request)}"


class LoginRateThrottle(AddressRateThrottle):
    scope = "login"


class RegisterRateThrottle(AddressRateThrottle):
    scope = "register"


def login_form_throttled(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Django's form sign-ins (the dashboard's, the admin's) count their attempts in the
    API login's per-address budget: one budget for every door, so no door guesses freely."""

    @wraps(view)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            throttle = LoginRateThrottle()
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]
                response = HttpResponse(
                    "Too many sign-in attempts from this address; try again later.",
                    status=429,
                    content_type="text/plain",
                )
                response["Retry-After"] = str(throttle.wait())
                return response
        return view(request, *args, **kwargs)

    return throttled
