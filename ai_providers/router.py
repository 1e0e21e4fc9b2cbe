"""Task type -> chain of "provider/model" (docs/concepts/ai-providers.md). Precedence: a node's own
`providers` list, then the admin's enabled ProviderRoute, then settings.AI_PROVIDERS["ROUTES"]."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from ai_providers.base import TASK_TYPES
from ai_providers.chains import ChainLink, parse_chain
from ai_providers.local_memo import LocalMemo
from ai_providers.models import ProviderRoute

logger = logging.getLogger(__name__)
ROUTES_CACHE_KEY = "ai:provider_routes"


def admin_routes() -> dict[str, list[str]]:
    """The enabled admin routes, kept in this process for LOCAL_CACHE_S (see local_memo)."""
    return _routes_memo.get()


def _shared_admin_routes() -> dict[str, list[str]]:
    """The enabled admin routes, cached (a node does not query them on every call)."""
    try:
        routes = cache.get(ROUTES_CACHE_KEY)
    except Exception:
        logger.warning("cache unavailable; reading provider routes from the database")
        routes = None
    if routes is None:
        routes = {r.task_type: r.chain for r in ProviderRoute.objects.filter(enabled=True)}
        try:
            cache.set(ROUTES_CACHE_KEY, routes, settings.AI_PROVIDERS["ROUTES_CACHE_TTL_S"])
        except Exception:
            logger.warning("cache unavailable; provider routes not cached")
    return routes


_routes_memo = LocalMemo(_shared_admin_routes)


def forget_admin_routes() -> None:
    """Called after an admin edit: this process sees it at its next call, every worker
    within LOCAL_CACHE_S."""
    _routes_memo.forget()
    try:
        cache.delete(ROUTES_CACHE_KEY)
    except Exception:
        logger.warning("cache unavailable; provider routes expire with their TTL")


def provider_chain_for(task_type: str, node_chain: Iterable[str] | None = None) -> list[ChainLink]:
    """The chain to try for a task type. Raises ValueError for an unknown task type or a bad chain."""
    if task_type not in TASK_TYPES:
        raise ValueError(f"Unknown task type {task_type!r}; known: {', '.join(TASK_TYPES)}.")
    if node_chain:
        return parse_chain(list(node_chain))
    admin_chain = admin_routes().get(task_type)
    if admin_chain:
        try:
            return parse_chain(admin_chain)
        except ValueError:
            logger.warning("admin route for %s is invalid; using the settings route", task_type)
    return parse_chain(settings.AI_PROVIDERS["ROUTES"][task_type])
