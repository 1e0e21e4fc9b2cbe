"""The node's deadline bounds the whole fallback chain: each call gets the time left, and the
chain stops with `node_timeout` when none is left (the `ai` queue's thread pool has no
Celery time limit to do it)."""

from __future__ import annotations

import time

import pytest

from ai_providers.base import Completion
from ai_providers.errors import AllProvidersUnavailable, NodeDeadlineReached
from ai_providers.registry import provider_names
from ai_providers.services import complete_with_fallback

pytestmark = pytest.mark.server

SLOW_MS = 3000  # longer than the node's time and than one call's configured timeout


def call(attempts: list[dict], *, deadline: float | None, task_type: str = "content_generation"):
    return complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt="Write a haiku"),
        user_id=9,
        attempt_log=attempts,
        deadline=deadline,
    )


# task type -> (primary, backup): every adapter's way of passing a per-call timeout
CHAINS = {
    "content_generation": ("gemini", "openrouter"),
    "quick_decision": ("groq", "gemini"),
    "sentiment_analysis": ("huggingface", "gemini"),
}


@pytest.mark.parametrize("task_type", CHAINS)
def test_a_slow_chain_stops_at_the_deadline_not_after_every_provider(ai_settings, emulator, task_type):
    primary, backup = CHAINS[task_type]
    ai_settings["TIMEOUT_S"] = 2.0
    emulator.fault(provider=primary, latency_ms=SLOW_MS)
    emulator.fault(provider=backup, latency_ms=SLOW_MS)
    provider_names()  # imports the SDKs now (about a second, once per process), not inside the deadline
    attempts: list[dict] = []
    started = time.monotonic()

    with pytest.raises(NodeDeadlineReached) as caught:
        call(attempts, deadline=started + 0.8, task_type=task_type)

    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed < 1.6  # the node's 0.8 s, not two 2 s per-call timeouts
    error = caught.value
    assert (error.code, error.retryable) == ("node_timeout", True)
    assert [(a["provider"], a["error_code"]) for a in attempts] == [(primary, "timeout")]
    assert emulator.calls(backup) == 0
    assert "timeout_s" in error.message


def test_a_call_cut_short_by_the_deadline_does_not_count_against_the_provider(ai_settings, emulator):
    ai_settings["TIMEOUT_S"] = 2.0
    emulator.fault(provider="gemini", latency_ms=SLOW_MS)
    for _ in range(ai_settings["BREAKER_THRESHOLD"] + 1):
        with pytest.raises(NodeDeadlineReached):
            call([], deadline=time.monotonic() + 0.3)
    assert emulator.calls("gemini") == ai_settings["BREAKER_THRESHOLD"] + 1  # the circuit stayed closed


def test_time_left_after_a_fast_failure_goes_to_the_backup(ai_settings, emulator):
    emulator.fault(provider="gemini", status=500)
    attempts: list[dict] = []
    result = call(attempts, deadline=time.monotonic() + 5)
    assert result.provider == "openrouter"
    assert [a.get("error_code") for a in attempts] == ["server_error", None]


def test_a_deadline_already_past_calls_nobody(ai_settings, emulator):
    with pytest.raises(NodeDeadlineReached, match="before any provider was called"):
        call([], deadline=time.monotonic() - 1)
    assert emulator.calls() == 0


def test_a_retry_after_longer_than_the_time_left_is_not_waited(ai_settings, emulator):
    emulator.fault(provider="gemini", status=429, retry_after=1.5)
    emulator.fault(provider="openrouter", status=500)
    started = time.monotonic()
    with pytest.raises(AllProvidersUnavailable):
        call([], deadline=started + 1.0)
    assert time.monotonic() - started < 0.9
    assert emulator.calls("gemini") == 1
