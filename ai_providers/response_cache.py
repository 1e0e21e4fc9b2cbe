"""The optional response cache for deterministic calls (temperature 0), keyed on provider,
model, prompt and parameters. Off unless SWITCHBOARD_AI_RESPONSE_CACHE_TTL_S > 0."""

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


def _key(link: ChainLink, request: Completion) -> str:
    material = json.dumps([link.provider, link.model, asdict(request)], sort_keys=True, default=str)
    return "ai:response:" + hashlib.sha256(material.encode()).hexdigest()


def cached_response(link: ChainLink, request: Completion) -> CompletionResult | None:
    if not _enabled(request):
        return None
    try:
        data = cache.get(_key(link, request))
    except Exception:
        logger.warning("cache unavailable; response cache skipped")
        return None
    if data is None:
        return None
    data["usage"] = Usage(**data["usage"])
    return CompletionResult(**data)


def store_response(link: ChainLink, request: Completion, result: CompletionResult) -> None:
    if not _enabled(request):
        return
    try:
        cache.set(_key(link, request), asdict(result), settings.AI_PROVIDERS["RESPONSE_CACHE_TTL_S"])
    except Exception:
        logger.warning("cache unavailable; response not cached")
