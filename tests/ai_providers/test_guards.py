"""Quotas, the circuit breaker and the per-user quota, shared through Redis (docs/concepts/ai-providers.md)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ai_providers.base import Completion
from ai_providers.errors import AllProvidersUnavailable, BadRequest, UserQuotaExceeded
from ai_providers.health import provider_status
from ai_providers.services import complete_with_fallback

pytestmark = pytest.mark.server


def call(attempts: list[dict] | None = None, *, user_id: object = 7, task_type: str = "content_generation", **kw):
    return complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt=kw.pop("prompt", "Tell me something nice"), **kw),
        user_id=user_id,
        attempt_log=attempts if attempts is not None else [],
    )


@pytest.fixture(autouse=True)
def one_quota_minute() -> None:
    """Per-minute quotas are counted in the current clock minute: a test that starts in the
    last seconds of one would read its counters back in the next, empty, window."""
    into_minute = time.time() % 60
    if into_minute > 50:
        time.sleep(60 - into_minute + 0.05)


def status_of(provider: str) -> dict:
    return next(s for s in provider_status() if s["provider"] == provider)


def test_a_spent_request_quota_skips_the_primary_without_calling_it(ai_settings, emulator):
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["rpm"] = 2
    assert call().provider == "gemini"
    assert call().provider == "gemini"
    attempts: list[dict] = []
    result = call(attempts)
    assert result.provider == "openrouter"
    assert emulator.calls("gemini") == 2
    assert attempts[0]["error_code"] == "quota_rpm"
    assert attempts[0]["skipped"] is True
    assert status_of("gemini")["quota_left"]["rpm"] == 0


def test_a_spent_daily_quota_on_every_provider_says_when_to_retry(ai_settings, emulator):
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["rpd"] = 1
    ai_settings["PROVIDERS"]["openrouter"]["quotas"]["rpm"] = 1
    call()
    call()  # gemini's day is spent: openrouter answers and spends its minute
    with pytest.raises(AllProvidersUnavailable) as caught:
        call()
    assert [a["error_code"] for a in caught.value.attempts] == ["quota_rpd", "quota_rpm"]
    assert 1 <= caught.value.retry_after_s <= 60  # the minute window ends first
    assert emulator.calls() == 2


def test_tokens_are_reserved_then_reconciled_with_real_usage(ai_settings, emulator):
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["tpm"] = 10_000
    result = call(max_tokens=2_000)
    used = result.usage.input_tokens + result.usage.output_tokens
    assert status_of("gemini")["quota_left"]["tpm"] == 10_000 - used


def test_a_token_quota_refuses_a_call_that_would_pass_it(ai_settings, emulator):
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["tpm"] = 3_000
    call(max_tokens=2_000)  # reconciled down to a few tokens
    call(max_tokens=2_000)
    attempts: list[dict] = []
    call(attempts, max_tokens=2_000)
    assert attempts[0]["provider"] == "gemini"
    assert "error_code" not in attempts[0]
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["tpm"] = 50
    attempts = []
    call(attempts, max_tokens=2_000)
    assert attempts[0]["error_code"] == "quota_tpm"


def test_the_circuit_opens_after_consecutive_failures_and_probes_once_after_the_cooldown(ai_settings, emulator):
    emulator.fault(provider="gemini", status=500)
    for _ in range(3):  # the threshold
        assert call().provider == "openrouter"
    assert emulator.calls("gemini") == 3
    assert status_of("gemini")["circuits"]["gemini-2.5-flash"] == "open"

    attempts: list[dict] = []
    call(attempts)
    assert attempts[0]["error_code"] == "circuit_open"
    assert emulator.calls("gemini") == 3  # no call while open

    time.sleep(ai_settings["BREAKER_COOLDOWN_S"] + 0.1)
    # Half-open: many workers at once, the slow failing probe in flight; exactly one calls.
    emulator.fault(provider="gemini", status=500, latency_ms=400)
    barrier = threading.Barrier(4)

    def concurrent_call() -> str:
        barrier.wait()
        return call().provider

    with ThreadPoolExecutor(max_workers=4) as pool:
        providers = list(pool.map(lambda _: concurrent_call(), range(4)))
    assert providers == ["openrouter"] * 4
    assert emulator.calls("gemini") == 4  # one probe
    assert status_of("gemini")["circuits"]["gemini-2.5-flash"] == "open"  # the probe failed: open again

    emulator.reset()
    time.sleep(ai_settings["BREAKER_COOLDOWN_S"] + 0.1)
    assert call().provider == "gemini"  # the probe answers: closed
    assert call().provider == "gemini"
    assert status_of("gemini")["circuits"]["gemini-2.5-flash"] == "closed"


def test_the_circuit_is_per_model(ai_settings, emulator):
    emulator.fault(provider="openrouter", model="z-ai/glm-4.5-air", status=500)
    for _ in range(3):
        call(task_type="math_reasoning")
    attempts: list[dict] = []
    result = call(attempts, task_type="math_reasoning")
    assert attempts[0]["error_code"] == "circuit_open"
    assert (result.provider, result.model) == ("openrouter", "qwen/qwen-2.5-72b-instruct")


def test_rate_limits_do_not_open_the_circuit(ai_settings, emulator):
    emulator.fault(provider="gemini", status=429)
    for _ in range(4):
        call()
    assert emulator.calls("gemini") == 4
    assert status_of("gemini")["circuits"]["gemini-2.5-flash"] == "closed"


def test_a_user_over_the_daily_quota_gets_a_clear_error(ai_settings, emulator):
    ai_settings["USER_CALLS_PER_DAY"] = 2
    call(user_id=11)
    call(user_id=11)
    with pytest.raises(UserQuotaExceeded) as caught:
        call(user_id=11)
    assert caught.value.retryable is False
    assert "2 AI calls" in caught.value.message
    assert emulator.calls() == 2
    assert call(user_id=12).provider == "gemini"  # another user is not affected


def test_a_users_call_counts_once_whichever_provider_or_the_cache_answers(ai_settings, emulator):
    ai_settings["USER_CALLS_PER_DAY"] = 3
    ai_settings["RESPONSE_CACHE_TTL_S"] = 60
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["rpm"] = 1
    assert call(user_id=31, prompt="Same", temperature=0).provider == "gemini"
    assert call(user_id=31, prompt="Same", temperature=0).cached is True  # no provider call, still a call
    attempts: list[dict] = []
    assert call(attempts, user_id=31).provider == "openrouter"  # gemini skipped: one call, not two
    assert [a.get("skipped", False) for a in attempts] == [True, False]
    with pytest.raises(UserQuotaExceeded):
        call(user_id=31)
    assert emulator.calls() == 2


def test_a_call_nobody_answered_does_not_count_against_the_user(ai_settings, emulator):
    ai_settings["USER_CALLS_PER_DAY"] = 1
    emulator.fault(provider="gemini", status=500, times=1)
    emulator.fault(provider="openrouter", status=500, times=1)
    with pytest.raises(AllProvidersUnavailable):
        call(user_id=21)
    emulator.fault(provider="gemini", status=400, times=1)  # refused as invalid: not answered either
    with pytest.raises(BadRequest):
        call(user_id=21)
    assert call(user_id=21).provider == "gemini"


def test_concurrent_calls_from_threads_all_answer_and_are_all_counted(ai_settings, emulator):
    ai_settings["PROVIDERS"]["groq"]["quotas"]["rpm"] = 8
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda i: call(task_type="quick_decision", prompt=f"q{i}"), range(10)))
    providers = sorted(r.provider for r in results)
    assert providers == ["gemini"] * 2 + ["groq"] * 8  # the quota holds under concurrency
    assert status_of("groq")["calls"] == 8


def test_a_redis_outage_lets_calls_through_unguarded(ai_settings, emulator, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    }
    ai_settings["USER_CALLS_PER_DAY"] = 1
    attempts: list[dict] = []
    assert call(attempts).provider == "gemini"
    assert call().provider == "gemini"  # the user quota cannot be checked: not enforced
    assert "redis unavailable" in caplog.text
