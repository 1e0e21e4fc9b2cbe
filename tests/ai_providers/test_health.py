"""The live provider test and the status report the dashboard shows."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from ai_providers.apis import ProviderStatusApi, ProviderTestApi
from ai_providers.health import provider_status, test_all_providers
from ai_providers.urls import urlpatterns
from tests.support.factories import UserFactory

pytestmark = pytest.mark.server


def test_every_configured_provider_answers_the_live_test(ai_settings, emulator):
    reports = {r["provider"]: r for r in test_all_providers()}
    assert set(reports) == {"gemini", "groq", "huggingface", "openrouter", "openai_compatible"}
    for report in reports.values():
        assert report["ok"] is True, report
        assert report["emulated"] is True
        assert report["latency_ms"] >= 0
    assert reports["huggingface"]["model"] == "cardiffnlp/twitter-roberta-base-sentiment-latest"
    assert reports["gemini"]["answer"].startswith("[emulated gemini-2.5-flash]")
    assert emulator.calls() == 5


def test_the_live_test_reports_a_classified_error_and_unconfigured_providers(ai_settings, emulator):
    emulator.fault(provider="groq", status=401)
    ai_settings["PROVIDERS"]["openai_compatible"]["api_key"] = ""
    reports = {r["provider"]: r for r in test_all_providers()}
    assert (reports["groq"]["ok"], reports["groq"]["error_code"]) == (False, "auth_failed")
    assert reports["openai_compatible"] == {
        "provider": "openai_compatible",
        "configured": False,
        "ok": False,
        "error_code": "not_configured",
    }
    assert reports["gemini"]["ok"] is True


def test_status_lists_every_provider_with_limits_and_circuits(ai_settings):
    ai_settings["PROVIDERS"]["groq"]["quotas"]["rpd"] = 100
    statuses = {s["provider"]: s for s in provider_status()}
    groq = statuses["groq"]
    assert groq["configured"] is True
    assert groq["circuit_state"] == "closed"
    assert groq["quota_left"] == {"rpm": None, "tpm": None, "rpd": 100, "tpd": None}
    assert groq["calls"] == 0
    assert groq["latency_p50_ms"] is None
    assert set(statuses["openrouter"]["circuits"]) == {
        "z-ai/glm-4.5-air",
        "moonshotai/kimi-dev-72b",
        "qwen/qwen-2.5-72b-instruct",
    }


def test_the_status_and_test_views_answer_json(ai_settings, emulator):
    assert {p.name for p in urlpatterns} == {"ai-providers-test", "ai-providers-status"}
    factory = APIRequestFactory()
    user, staff = UserFactory(), UserFactory(is_staff=True)
    request = factory.get("/ai-status")
    force_authenticate(request, user=user)
    response = ProviderStatusApi.as_view()(request)
    assert response.status_code == 200
    assert {p["provider"] for p in response.data["providers"]} >= {"gemini", "groq"}

    request = factory.post("/test-ai")
    force_authenticate(request, user=user)
    assert ProviderTestApi.as_view()(request).status_code == 403  # it spends real quota: staff only
    request = factory.post("/test-ai")
    force_authenticate(request, user=staff)
    response = ProviderTestApi.as_view()(request)
    assert response.status_code == 200
    assert all(r["ok"] for r in response.data["results"])
