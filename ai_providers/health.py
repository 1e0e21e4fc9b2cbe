"""Provider health for the dashboard: a live test call to each configured provider and
the status of each (configured, circuit, quota left, calls, errors, latency, tokens, cost)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from redis.exceptions import RedisError

from ai_providers import guards, usage
from ai_providers.base import Completion
from ai_providers.chains import ChainLink, parse_link
from ai_providers.errors import ProviderError
from ai_providers.overrides import admin_overrides
from ai_providers.registry import get_provider, provider_names
from ai_providers.router import admin_routes

TEST_PROMPT = "Reply with the word: ok"


def provider_models() -> dict[str, list[str]]:
    """Every model the routes (settings and admin) name, per provider."""
    models: dict[str, list[str]] = {name: [] for name in provider_names()}
    routes = [*settings.AI_PROVIDERS["ROUTES"].values(), *admin_routes().values()]
    for chain in routes:
        for entry in chain:
            try:
                link = parse_link(entry)
            except ValueError:
                continue
            if link.model not in models[link.provider]:
                models[link.provider].append(link.model)
    for name, listed in models.items():
        default = get_provider(name).default_model()
        if not listed and default:
            listed.append(default)
    return models


def _test_one(link: ChainLink) -> dict:
    provider = get_provider(link.provider)
    task_type = "sentiment_analysis" if provider.classifies(link.model) else "quick_decision"
    request = Completion(prompt=TEST_PROMPT, max_tokens=16, temperature=0, task_type=task_type, model=link.model)
    report: dict = {"provider": link.provider, "model": link.model, "emulated": provider.config.emulated}
    started = time.monotonic()
    try:
        result = provider.complete(request)
    except ProviderError as exc:
        report.update(ok=False, error_code=exc.code, error=exc.message)
    else:
        report.update(ok=True, answer=result.text[:200])
    report["latency_ms"] = int((time.monotonic() - started) * 1000)
    return report


def test_all_providers() -> list[dict]:
    """One tiny live call per configured provider (its first routed model), in parallel;
    not counted against quotas or the breaker. Unconfigured providers are listed, not called."""
    models = provider_models()
    links, reports = [], []
    for name in provider_names():
        if not get_provider(name).configured or not models[name]:
            reports.append({"provider": name, "configured": False, "ok": False, "error_code": "not_configured"})
            continue
        links.append(ChainLink(name, models[name][0]))
    if links:
        with ThreadPoolExecutor(max_workers=len(links)) as pool:
            reports.extend({"configured": True, **r} for r in pool.map(_test_one, links))
    return sorted(reports, key=lambda r: r["provider"])


# A service, not a pytest test: pytest reads this attribute, which mypy does not know functions have.
test_all_providers.__test__ = False  # type: ignore[attr-defined]


def _circuit_state(link: ChainLink, redis) -> str:
    failures_key, open_key, _probe = guards.breaker_keys(link)
    failures, open_ms = redis.get(failures_key), redis.pttl(open_key)
    if open_ms and open_ms > 0:
        return "open"
    if int(failures or 0) >= settings.AI_PROVIDERS["BREAKER_THRESHOLD"]:
        return "half_open"
    return "closed"


def _quota_left(name: str, limits: dict[str, int], redis) -> dict:
    keys = guards.quota_keys(name, guards.Windows.now())
    used = [int(v or 0) for v in redis.mget(keys)]
    return {
        quota: (None if not limits.get(quota) else max(0, limits[quota] - spent))
        for quota, spent in zip(guards.QUOTA_NAMES, used, strict=True)
    }


def provider_status() -> list[dict]:
    """Per provider: configured?, emulated?, circuit state per model, quota left (None =
    unlimited), cooling, and today's calls, error rate, p50/p95 latency, tokens and cost."""
    redis = guards.redis_connection()
    overrides = admin_overrides()
    statuses = []
    for name, models in provider_models().items():
        provider = get_provider(name)
        limits = overrides.quota_limits(name)  # the admin's, else the settings'
        status: dict = {"provider": name, "configured": provider.configured, "emulated": provider.config.emulated}
        try:
            circuits = {model: _circuit_state(ChainLink(name, model), redis) for model in models}
            status.update(
                circuits=circuits,
                circuit_state=next((s for s in ("open", "half_open") if s in circuits.values()), "closed"),
                cooling_s=max(0, redis.pttl(guards.cooling_key(name)) or 0) / 1000,
                quota_left=_quota_left(name, limits, redis),
                quota_limits=limits,
                **usage.provider_usage(name),
            )
        except RedisError:
            status["error"] = "Redis is unavailable: no counters."
        statuses.append(status)
    return statuses
