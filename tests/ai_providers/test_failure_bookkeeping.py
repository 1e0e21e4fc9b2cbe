"""Every failed call is settled (breaker, probe lock, token reservation) and says when to
retry, whatever the SDK raised; a classifier routed another task hands over to the backup."""

from __future__ import annotations

import logging
import time

import pytest
from django_redis import get_redis_connection

from ai_providers import guards
from ai_providers.adapters.gemini import Gemini
from ai_providers.base import Completion
from ai_providers.errors import AllProvidersUnavailable
from ai_providers.health import provider_status
from ai_providers.router import ChainLink
from ai_providers.services import complete_with_fallback
from tests.support.emulator import FAKE_KEYS

pytestmark = pytest.mark.server

CLASSIFIER = "cardiffnlp/twitter-roberta-base-sentiment-latest"
GEMINI = ChainLink("gemini", "gemini-2.5-flash")


def call(attempts: list[dict] | None = None, **kw: object):
    return complete_with_fallback(
        task_type=kw.pop("task_type", "content_generation"),
        request=Completion(prompt="Tell me something"),
        user_id=3,
        attempt_log=attempts if attempts is not None else [],
        **kw,
    )


def status_of(provider: str) -> dict:
    return next(s for s in provider_status() if s["provider"] == provider)


def test_a_failure_without_retry_after_asks_for_the_default_wait_not_a_long_cooldown(ai_settings, emulator):
    ai_settings.update(QUOTA_COOLDOWN_S=300, ALL_DOWN_RETRY_S=7)
    emulator.fault(provider="gemini", quota=True)
    emulator.fault(provider="openrouter", status=503)
    with pytest.raises(AllProvidersUnavailable) as caught:
        call()
    assert [a["error_code"] for a in caught.value.attempts] == ["quota_exhausted", "server_error"]
    assert caught.value.retry_after_s == 7  # openrouter may be back long before gemini's quota


class Exploding:
    """An SDK client that fails in a way no adapter foresaw, echoing the key."""

    class models:  # the SDK client's attribute name
        @staticmethod
        def generate_content(**_: object) -> None:
            raise RuntimeError(f"internal SDK failure, key={FAKE_KEYS['gemini']} sent")


def test_an_unforeseen_sdk_exception_is_a_redacted_retryable_failure(ai_settings, emulator, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(Gemini, "build_client", lambda self: Exploding())
    attempts: list[dict] = []
    result = call(attempts)
    assert result.provider == "openrouter"
    assert [(a["provider"], a.get("error_code")) for a in attempts] == [
        ("gemini", "unexpected_error"),
        ("openrouter", None),
    ]
    assert "RuntimeError" in caplog.text
    assert FAKE_KEYS["gemini"] not in caplog.text


def test_an_exception_that_escapes_an_adapter_is_still_settled(ai_settings, emulator, monkeypatch, caplog):
    """The probe lock is freed, the circuit reopened and the token reservation given back."""
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["tpm"] = 100_000
    emulator.fault(provider="gemini", status=500)
    for _ in range(ai_settings["BREAKER_THRESHOLD"]):
        call()
    time.sleep(ai_settings["BREAKER_COOLDOWN_S"] + 0.1)  # half-open: the next call is the probe
    used_by_failures = 100_000 - status_of("gemini")["quota_left"]["tpm"]

    def explode(self, request, *, timeout_s=None):
        raise ValueError(f"escaped with {FAKE_KEYS['gemini']}")

    monkeypatch.setattr(Gemini, "complete", explode)
    attempts: list[dict] = []
    assert call(attempts).provider == "openrouter"

    assert attempts[0]["error_code"] == "unexpected_error"
    _, _, probe = guards.breaker_keys(GEMINI)
    assert not get_redis_connection("default").exists(probe)
    assert status_of("gemini")["circuits"]["gemini-2.5-flash"] == "open"
    assert 100_000 - status_of("gemini")["quota_left"]["tpm"] == used_by_failures
    assert FAKE_KEYS["gemini"] not in caplog.text


def test_a_classifier_asked_for_another_task_falls_back_without_opening_its_circuit(ai_settings, emulator):
    chain = [f"huggingface/{CLASSIFIER}", "gemini/gemini-2.5-flash"]
    for _ in range(ai_settings["BREAKER_THRESHOLD"] + 1):
        attempts: list[dict] = []
        result = call(attempts, chain_override=chain)
        assert result.provider == "gemini"
        assert (attempts[0]["error_code"], attempts[0]["skipped"]) == ("model_unsuitable", True)
    huggingface = status_of("huggingface")
    assert huggingface["circuits"][CLASSIFIER] == "closed"
    assert huggingface["calls"] == 0  # passed over, not called: no call counted, no quota reserved
    assert call(task_type="sentiment_analysis").provider == "huggingface"  # still serves sentiment
    assert emulator.calls("huggingface") == 1  # refused before any request went out
