"""The optional response cache for deterministic calls (temperature 0), keyed on provider,
model, prompt and parameters, per user: a hit (it answers at once) must not tell one user
what another asked. Off unless SWITCHBOARD_AI_RESPONSE_CACHE_TTL_S > 0."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict

from django.conf import settings
from django.core.cache import cache

from ai_providers.base import Completion, CompletionResult, Usage
from ai_providers.router import ChainLink

logger = logging.getLogger(__name__)


def _enabled(request: Completion) -> bool:
    return settings.AI_PROVIDERS["RESPONSE_CACHE_TTL_S"] > 0 and request.temperature == 0


def _key(link: ChainLink, request: Completion, user_id: object) -> str:
    material = json.dumps([str(user_id), link.provider, link.model, asdict(request)], sort_keys=True, default=str)
    return "ai:response:" + hashlib.sha256(material.encode()).hexdigest()


def cached_response(link: ChainLink, request: Completion, user_id: object) -> CompletionResult | None:
    """The stored answer, marked cached: no tokens used and nothing spent by this call."""
    if not _enabled(request):
        return None
    try:
        data = cache.get(_key(link, request, user_id))
    except Exception:
        logger.warning("cache unavailable; response cache skipped")
        return None
    if data is None:
        return None
    data.update(usage=Usage(), cost_usd=0.0, cached=True, latency_ms=0)
    return CompletionResult(**data)


def store_response(link: ChainLink, request: Completion, result: CompletionResult, user_id: object) -> None:
    if not _enabled(request):
        return
    try:
        cache.set(_key(link, request, user_id), asdict(result), settings.AI_PROVIDERS["RESPONSE_CACHE_TTL_S"])
    except Exception:
        logger.warning("cache unavailable; response not cached")
