"""Prices and quotas edited in the admin (ModelPrice, ProviderQuota), over the settings'
(settings.AI_PROVIDERS["PRICES"] and each provider's "quotas").

Every provider call reads them, so all rows are read at once into one snapshot kept in the
cache for ROUTES_CACHE_TTL_S; an admin save or delete forgets it after the commit. With the
cache warm a call makes no query; with the cache down each read falls back to the database."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from ai_providers.local_memo import LocalMemo
from ai_providers.models import ModelPrice, ProviderQuota
from core.resilient_cache import cache_delete, cache_get, cache_set

OVERRIDES_CACHE_KEY = "ai:provider_overrides"
QUOTA_NAMES = ("rpm", "tpm", "rpd", "tpd")


@dataclass(frozen=True)
class Overrides:
    """The admin's prices ("provider/model" -> (input, output) USD per 1M tokens) and enabled
    quotas (provider -> {rpm, tpm, rpd, tpd}, 0 = unlimited)."""

    prices: dict[str, tuple[float, float]]
    quotas: dict[str, dict[str, int]]

    def price(self, provider: str, model: str) -> tuple[float, float] | None:
        key = f"{provider}/{model}"
        return self.prices.get(key) or settings.AI_PROVIDERS["PRICES"].get(key)

    def quota_limits(self, provider: str) -> dict[str, int]:
        admin_quotas = self.quotas.get(provider)
        if admin_quotas is not None:
            return admin_quotas
        configured = settings.AI_PROVIDERS["PROVIDERS"][provider].get("quotas", {})
        return {name: int(configured.get(name) or 0) for name in QUOTA_NAMES}


def _read_overrides() -> dict:
    prices = {
        f"{row.provider}/{row.model}": (float(row.input_usd_per_million), float(row.output_usd_per_million))
        for row in ModelPrice.objects.all()
    }
    quotas = {
        row.provider: {name: getattr(row, name) for name in QUOTA_NAMES}
        for row in ProviderQuota.objects.filter(enabled=True)
    }
    return {"prices": prices, "quotas": quotas}


def _shared_overrides() -> Overrides:
    """The current snapshot: from the cache, or read from the database and cached."""
    snapshot = cache_get(OVERRIDES_CACHE_KEY)
    if snapshot is None:
        snapshot = _read_overrides()
        cache_set(OVERRIDES_CACHE_KEY, snapshot, settings.AI_PROVIDERS["ROUTES_CACHE_TTL_S"])
    return Overrides(prices=snapshot["prices"], quotas=snapshot["quotas"])


_memo = LocalMemo(_shared_overrides)


def admin_overrides() -> Overrides:
    """The current snapshot, kept in this process for LOCAL_CACHE_S (see local_memo)."""
    return _memo.get()


def forget_admin_overrides() -> None:
    """After the current transaction commits, this process at once and every worker within
    LOCAL_CACHE_S reads the new rows (forgetting before the commit could let a reader cache
    the old rows again)."""

    def forget() -> None:
        _memo.forget()
        cache_delete(OVERRIDES_CACHE_KEY)

    transaction.on_commit(forget)
