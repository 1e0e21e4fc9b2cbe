"""Fallback (docs/concepts/ai-providers.md): a failing primary hands over to the backup in the same call, every
provider call is recorded, a bad request fails at once, a dead chain says when to retry."""

from __future__ import annotations

import time

import pytest

from ai_providers.adapters.errors import retry_after_seconds
from ai_providers.base import Completion
from ai_providers.errors import AllProvidersUnavailable, BadRequest, ProvidersNotConfigured
from ai_providers.services import complete_with_fallback
from tests.support.emulator import CLIENT_TIMEOUT_S

# task type -> (primary provider, primary model, backup provider, backup model)
CHAINS = {
    "content_generation": ("gemini", "gemini-2.5-flash", "openrouter", "qwen/qwen-2.5-72b-instruct"),
    "quick_decision": ("groq", "llama-3.1-8b-instant", "gemini", "gemini-2.5-flash"),
    "code_generation": ("openrouter", "qwen/qwen-2.5-72b-instruct", "gemini", "gemini-2.5-flash"),
    "sentiment_analysis": (
        "huggingface",
        "cardiffnlp/twitter-roberta-base-sentiment-latest",
        "gemini",
        "gemini-2.5-flash",
    ),
    "math_reasoning": ("openrouter", "z-ai/glm-4.5-air", "openrouter", "qwen/qwen-2.5-72b-instruct"),
    "long_context": ("openrouter", "moonshotai/kimi-dev-72b", "gemini", "gemini-2.5-flash"),
}
FAULTS = {
    "server_error": {"status": 500},
    "rate_limited": {"status": 429},
    "timeout": {"latency_ms": int(CLIENT_TIMEOUT_S * 1000) + 800},
    "auth_failed": {"status": 401},
    "quota_exhausted": {"quota": True},
    "malformed_response": {"malformed": True},
}


def call(task_type: str, attempts: list[dict], **request: object):
    return complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt=request.pop("prompt", "I love this product"), **request),
        user_id=7,
        attempt_log=attempts,
    )


# A spent quota is the vendor account's: it cools every model of that provider, so a backup
# on the same provider is not a way round it (see the test after this one).
HAND_OVERS = [
    pytest.param(task_type, error_code, id=f"{task_type}-{error_code}")
    for task_type, (primary, _, backup, _) in CHAINS.items()
    for error_code in FAULTS
    if not (error_code == "quota_exhausted" and primary == backup)
]


@pytest.mark.server
@pytest.mark.parametrize(("task_type", "error_code"), HAND_OVERS)
def test_a_failing_primary_hands_over_to_the_backup(ai_settings, emulator, task_type, error_code):
    primary, primary_model, backup, backup_model = CHAINS[task_type]
    emulator.fault(provider=primary, model=primary_model, **FAULTS[error_code])
    attempts: list[dict] = []

    result = call(task_type, attempts)

    assert (result.provider, result.model) == (backup, backup_model)
    assert result.fallback_used is True
    assert [(a["n"], a["provider"], a["model"], a.get("error_code")) for a in attempts] == [
        (1, primary, primary_model, error_code),
        (2, backup, backup_model, None),
    ]
    assert all(isinstance(a["latency_ms"], int) for a in attempts)
    assert emulator.calls(primary, primary_model) == 1
    assert emulator.calls(backup, backup_model) == 1


@pytest.mark.server
def test_a_spent_account_quota_also_keeps_the_backup_on_the_same_provider_waiting(ai_settings, emulator):
    _, primary_model, _, backup_model = CHAINS["math_reasoning"]
    emulator.fault(provider="openrouter", model=primary_model, quota=True)
    attempts: list[dict] = []
    with pytest.raises(AllProvidersUnavailable) as caught:
        call("math_reasoning", attempts, prompt="What is 6 * 7?")
    assert [(a["model"], a["error_code"], a.get("skipped", False)) for a in attempts] == [
        (primary_model, "quota_exhausted", False),
        (backup_model, "cooling", True),
    ]
    assert emulator.calls("openrouter") == 1
    assert caught.value.retryable is True


@pytest.mark.server
def test_a_timeout_gives_up_on_the_client_deadline_not_the_providers(ai_settings, emulator):
    emulator.fault(provider="gemini", latency_ms=5000)
    attempts: list[dict] = []
    started = time.monotonic()
    call("content_generation", attempts)
    assert time.monotonic() - started < 4
    assert attempts[0]["error_code"] == "timeout"
    assert attempts[0]["latency_ms"] >= CLIENT_TIMEOUT_S * 1000 * 0.9


@pytest.mark.server
@pytest.mark.parametrize("provider", ["gemini", "groq", "openrouter", "huggingface"])
def test_a_bad_request_fails_at_once_without_trying_the_backup(ai_settings, emulator, provider):
    task_type = next(task for task, chain in CHAINS.items() if chain[0] == provider)
    emulator.fault(provider=provider, status=400)
    attempts: list[dict] = []
    with pytest.raises(BadRequest) as caught:
        call(task_type, attempts)
    assert caught.value.retryable is False
    assert [a.get("error_code") for a in attempts] == ["bad_request"]
    assert emulator.calls() == 1  # the backup was never called
    assert caught.value.details["attempts"] == attempts


@pytest.mark.server
def test_when_the_whole_chain_is_down_every_attempt_is_listed(ai_settings, emulator):
    emulator.fault(provider="gemini", status=503)
    emulator.fault(provider="openrouter", status=500)
    attempts: list[dict] = [
        {"n": 1, "provider": "gemini", "model": "gemini-2.5-flash", "error_code": "x", "latency_ms": 3}
    ]
    with pytest.raises(AllProvidersUnavailable) as caught:
        call("content_generation", attempts)
    error = caught.value
    assert error.retryable is True
    assert error.retry_after_s == ai_settings["ALL_DOWN_RETRY_S"]
    assert [(a["n"], a["provider"], a["error_code"]) for a in error.attempts] == [
        (2, "gemini", "server_error"),
        (3, "openrouter", "server_error"),
    ]
    assert attempts[1:] == error.attempts  # appended after what the engine already had
    assert "gemini/gemini-2.5-flash: server_error" in error.message


@pytest.mark.server
def test_a_short_retry_after_is_waited_once_on_the_same_provider(ai_settings, emulator):
    emulator.fault(provider="gemini", status=429, retry_after=0.3, times=1)
    attempts: list[dict] = []
    started = time.monotonic()
    result = call("content_generation", attempts)
    assert time.monotonic() - started >= 0.3
    assert result.provider == "gemini"
    assert [(a["provider"], a.get("error_code")) for a in attempts] == [("gemini", "rate_limited"), ("gemini", None)]


@pytest.mark.server
def test_a_long_retry_after_cools_the_provider_for_later_calls(ai_settings, emulator):
    emulator.fault(provider="gemini", status=429, retry_after=30, times=1)
    first: list[dict] = []
    assert call("content_generation", first).provider == "openrouter"
    second: list[dict] = []
    assert call("content_generation", second).provider == "openrouter"
    assert emulator.calls("gemini") == 1  # cooling: not called again
    assert second[0] == {
        "n": 1,
        "provider": "gemini",
        "model": "gemini-2.5-flash",
        "error_code": "cooling",
        "latency_ms": 0,
        "skipped": True,
    }


@pytest.mark.server
def test_a_chain_that_is_cooling_says_when_to_retry(ai_settings, emulator):
    emulator.fault(provider="gemini", status=429, retry_after=20)
    emulator.fault(provider="openrouter", status=429, retry_after=40)
    with pytest.raises(AllProvidersUnavailable) as caught:
        call("content_generation", [])
    assert 19 <= caught.value.retry_after_s <= 20
    with pytest.raises(AllProvidersUnavailable) as again:
        call("content_generation", [])
    assert [a["error_code"] for a in again.value.attempts] == ["cooling", "cooling"]
    assert emulator.calls() == 2


@pytest.mark.server
def test_a_provider_without_a_key_is_skipped_without_a_call(ai_settings, emulator):
    ai_settings["PROVIDERS"]["gemini"]["api_key"] = ""
    attempts: list[dict] = []
    result = call("content_generation", attempts)
    assert result.provider == "openrouter"
    assert attempts[0]["error_code"] == "not_configured"
    assert attempts[0]["skipped"] is True
    assert emulator.calls("gemini") == 0


@pytest.mark.server
def test_a_chain_with_nothing_configured_is_not_retried(ai_settings, emulator):
    for provider in ai_settings["PROVIDERS"].values():
        provider["api_key"] = ""
    with pytest.raises(ProvidersNotConfigured) as caught:
        call("content_generation", [])
    assert caught.value.retryable is False
    assert "SWITCHBOARD_EMULATOR_URL" in caught.value.message
    assert emulator.calls() == 0


@pytest.mark.server
def test_unknown_task_types_and_providers_are_bad_requests(ai_settings):
    with pytest.raises(BadRequest, match="Unknown task type"):
        call("poetry", [])
    with pytest.raises(BadRequest, match="Unknown provider"):
        complete_with_fallback(
            task_type="content_generation",
            request=Completion(prompt="x"),
            chain_override=["acme/model"],
            user_id=1,
            attempt_log=[],
        )


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": "99999999"}, 86_400.0),  # at most a day
        ({"Retry-After": "1e400"}, None),  # read as infinity: said nothing usable
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_after_is_read_within_bounds(headers, seconds):
    assert retry_after_seconds(headers) == seconds
