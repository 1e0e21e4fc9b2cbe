"""Provider keys never appear in results, attempt logs, errors, logs or health reports."""

from __future__ import annotations

import json
import logging

import pytest

from ai_providers.adapters.errors import vendor_message
from ai_providers.base import Completion
from ai_providers.errors import AllProvidersUnavailable, BadRequest
from ai_providers.health import provider_status, test_all_providers
from ai_providers.registry import get_provider, provider_names
from ai_providers.services import complete_with_fallback
from tests.support.emulator import FAKE_KEYS

pytestmark = pytest.mark.server


def assert_no_key(*texts: object) -> None:
    blob = "\n".join(t if isinstance(t, str) else json.dumps(t, default=str) for t in texts)
    for key in FAKE_KEYS.values():
        assert key not in blob
        assert key[6:18] not in blob  # not even a slice of it


def run(task_type: str, attempts: list[dict], **request: object):
    return complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt="hello there", **request),
        user_id=5,
        attempt_log=attempts,
    )


@pytest.mark.parametrize("provider", ["gemini", "groq", "openrouter", "huggingface"])
def test_a_vendor_error_that_echoes_the_key_is_redacted(ai_settings, emulator, caplog, provider):
    caplog.set_level(logging.DEBUG)
    task_type = {
        "gemini": "content_generation",
        "groq": "quick_decision",
        "openrouter": "code_generation",
        "huggingface": "sentiment_analysis",
    }[provider]
    key = FAKE_KEYS[provider]
    emulator.fault(provider=provider, status=400, message=f"API key not valid: {key}. Authorization: Bearer {key}")
    attempts: list[dict] = []
    with pytest.raises(BadRequest) as caught:
        run(task_type, attempts)
    error = caught.value
    assert "[redacted]" in error.message
    assert_no_key(str(error), repr(error), error.message, error.details, attempts, caplog.text)


def test_failures_of_every_kind_leave_no_key_anywhere(ai_settings, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    emulator.fault(provider="gemini", status=401)
    emulator.fault(provider="openrouter", quota=True)
    emulator.fault(provider="groq", malformed=True)
    emulator.fault(provider="huggingface", latency_ms=1500)
    collected: list[object] = []
    for task_type in ("content_generation", "quick_decision", "sentiment_analysis", "code_generation"):
        attempts: list[dict] = []
        try:
            collected.append(run(task_type, attempts).as_output())
        except AllProvidersUnavailable as exc:
            collected.extend([str(exc), exc.message, exc.details])
        collected.append(attempts)
    collected.extend([provider_status(), test_all_providers()])
    assert_no_key(caplog.text, *collected)
    assert "gemini" in caplog.text  # the failures were logged, only without keys


def test_a_providers_settings_and_a_long_error_body_never_show_its_key(ai_settings):
    # A traceback's locals and Django's debug page print the adapter's settings.
    assert_no_key(*(repr(get_provider(name).config) for name in provider_names()))
    # A plain-text error body is cut short: redacted first, so no slice of a key survives the cut.
    key = FAKE_KEYS["groq"]
    assert_no_key(vendor_message("x" * 180 + key + " and more"))
