"""Cost of a call and the per-provider counters in Redis that the dashboard and the
Prometheus collector read (calls, errors by code, tokens, cost, latency samples per day)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from ai_providers.base import Usage
from ai_providers.guard_redis import redis_connection, redis_key
from ai_providers.overrides import admin_overrides

logger = logging.getLogger(__name__)
KEEP_DAYS_S = 8 * 86400


def cost_usd(provider: str, model: str, usage: Usage) -> float:
    """USD from the admin's ModelPrice, else settings.AI_PROVIDERS["PRICES"] (per 1M input /
    output tokens); 0 for unpriced models."""
    price = admin_overrides().price(provider, model)
    if not price:
        return 0.0
    return round((usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1_000_000, 8)


def today() -> str:
    return time.strftime("%Y%m%d", time.gmtime())


def stats_key(provider: str, day: str) -> str:
    return redis_key("stats", provider, day)


def latency_key(provider: str, day: str) -> str:
    return redis_key("latency", provider, day)


def record_call(provider: str, model: str, **counts: Any) -> None:
    """One real call to a provider (answered or failed); `counts` are queue_call's keywords."""
    try:
        pipe = redis_connection().pipeline(transaction=False)
        queue_call(pipe, provider, model, **counts)
        pipe.execute()
    except RedisError:
        logger.warning("redis unavailable; usage of %s not recorded", provider)


def queue_call(
    pipe: Any,
    provider: str,
    model: str,
    *,
    latency_ms: int,
    error_code: str | None = None,
    usage: Usage | None = None,
    cost: float = 0.0,
) -> None:
    """record_call's commands, added to a pipeline the caller executes."""
    day = today()
    key, samples = stats_key(provider, day), latency_key(provider, day)
    pipe.hincrby(key, "calls", 1)
    pipe.hincrby(key, f"calls:{model}", 1)
    if error_code:
        pipe.hincrby(key, "errors", 1)
        pipe.hincrby(key, f"error:{error_code}", 1)
    if usage:
        pipe.hincrby(key, "input_tokens", usage.input_tokens)
        pipe.hincrby(key, "output_tokens", usage.output_tokens)
    if cost:
        pipe.hincrbyfloat(key, "cost_usd", cost)
    pipe.lpush(samples, latency_ms)
    pipe.ltrim(samples, 0, settings.AI_PROVIDERS["LATENCY_SAMPLES"] - 1)
    pipe.expire(key, KEEP_DAYS_S)
    pipe.expire(samples, KEEP_DAYS_S)


def record_skip(provider: str, code: str) -> None:
    """A provider passed over without a call (not configured, cooling, circuit open, quota spent)."""
    key = stats_key(provider, today())
    try:
        pipe = redis_connection().pipeline(transaction=False)
        pipe.hincrby(key, f"skipped:{code}", 1)
        pipe.expire(key, KEEP_DAYS_S)
        pipe.execute()
    except RedisError:
        logger.warning("redis unavailable; skip of %s not recorded", provider)


def _percentile(sorted_values: list[int], fraction: float) -> int | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def provider_usage(provider: str, day: str | None = None) -> dict:
    """Today's (or `day`'s) counters for one provider."""
    day = day or today()
    redis = redis_connection()
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(stats_key(provider, day))
    pipe.lrange(latency_key(provider, day), 0, -1)
    raw, samples = pipe.execute()
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    latencies = sorted(int(s) for s in samples)
    calls, errors = int(fields.get("calls", 0)), int(fields.get("errors", 0))
    return {
        "calls": calls,
        "errors": errors,
        "error_rate": round(errors / calls, 4) if calls else 0.0,
        "errors_by_code": {k.split(":", 1)[1]: int(v) for k, v in fields.items() if k.startswith("error:")},
        "skipped": {k.split(":", 1)[1]: int(v) for k, v in fields.items() if k.startswith("skipped:")},
        "calls_by_model": {k.split(":", 1)[1]: int(v) for k, v in fields.items() if k.startswith("calls:")},
        "input_tokens": int(fields.get("input_tokens", 0)),
        "output_tokens": int(fields.get("output_tokens", 0)),
        "cost_usd": round(float(fields.get("cost_usd", 0.0)), 6),
        "latency_p50_ms": _percentile(latencies, 0.5),
        "latency_p95_ms": _percentile(latencies, 0.95),
    }
