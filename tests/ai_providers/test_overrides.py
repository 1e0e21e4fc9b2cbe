"""Prices and quotas edited in the admin win over the settings', reach the next call, and
cost no query once cached."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ai_providers.base import Completion
from ai_providers.health import provider_status
from ai_providers.models import ModelPrice, ProviderQuota
from ai_providers.services import complete_with_fallback

PRICE_ADD_URL = "/admin/ai_providers/modelprice/add/"
QUOTA_ADD_URL = "/admin/ai_providers/providerquota/add/"


def call(attempts: list[dict] | None = None, *, task_type: str = "quick_decision"):
    return complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt="Is this urgent?"),
        user_id=7,
        attempt_log=attempts if attempts is not None else [],
    )


def expected_cost(result, input_price: float, output_price: float) -> float:
    return round((result.usage.input_tokens * input_price + result.usage.output_tokens * output_price) / 1e6, 8)


def quota_form(provider: str, *, rpm: int = 0, enabled: bool = True) -> dict:
    form = {"provider": provider, "rpm": rpm, "tpm": 0, "rpd": 0, "tpd": 0}
    return form | ({"enabled": "on"} if enabled else {})


@pytest.mark.server
def test_an_admin_price_changes_the_cost_of_the_next_call(
    ai_settings, admin_client, django_capture_on_commit_callbacks
):
    first = call()
    assert (first.provider, first.model) == ("groq", "llama-3.1-8b-instant")
    assert first.cost_usd == expected_cost(first, 0.05, 0.08)  # the settings' price, now cached
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            PRICE_ADD_URL,
            {
                "provider": "groq",
                "model": "llama-3.1-8b-instant",
                "input_usd_per_million": "10",
                "output_usd_per_million": "20.5",
            },
        )
    assert response.status_code == 302
    second = call()
    assert second.cost_usd == expected_cost(second, 10, 20.5)
    assert second.cost_usd > first.cost_usd


@pytest.mark.server
def test_an_admin_quota_skips_the_provider_and_deleting_it_restores_the_settings(
    ai_settings, emulator, admin_client, django_capture_on_commit_callbacks
):
    call(task_type="content_generation")  # caches the snapshot without touching groq's counters
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(QUOTA_ADD_URL, quota_form("groq", rpm=1)).status_code == 302
    assert call().provider == "groq"
    attempts: list[dict] = []
    assert call(attempts).provider == "gemini"
    assert attempts[0] == {
        "n": 1,
        "provider": "groq",
        "model": "llama-3.1-8b-instant",
        "error_code": "quota_rpm",
        "latency_ms": 0,
        "skipped": True,
    }
    assert emulator.calls("groq") == 1
    groq = next(s for s in provider_status() if s["provider"] == "groq")
    assert groq["quota_limits"] == {"rpm": 1, "tpm": 0, "rpd": 0, "tpd": 0}
    assert groq["quota_left"]["rpm"] == 0

    quota = ProviderQuota.objects.get(provider="groq")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/ai_providers/providerquota/{quota.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert call().provider == "groq"  # the settings' quota again: unlimited
    assert emulator.calls("groq") == 2


@pytest.mark.server
def test_a_disabled_admin_quota_leaves_the_settings_quota(
    ai_settings, emulator, admin_client, django_capture_on_commit_callbacks
):
    ai_settings["PROVIDERS"]["groq"]["quotas"]["rpm"] = 5
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(QUOTA_ADD_URL, quota_form("groq", rpm=1, enabled=False))
    assert ProviderQuota.objects.get(provider="groq").enabled is False
    call()
    assert call().provider == "groq"
    groq = next(s for s in provider_status() if s["provider"] == "groq")
    assert groq["quota_limits"]["rpm"] == 5
    assert groq["quota_left"]["rpm"] == 3


@pytest.mark.server
def test_a_warm_snapshot_costs_no_query(ai_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ModelPrice.objects.create(
            provider="groq", model="llama-3.1-8b-instant", input_usd_per_million=1, output_usd_per_million=2
        )
        ProviderQuota.objects.create(provider="groq", rpm=100)
    call()  # reads the rows once and caches them
    with CaptureQueriesContext(connection) as queries:
        result = call()
        status = provider_status()
    assert [q["sql"] for q in queries.captured_queries] == []
    assert result.cost_usd == expected_cost(result, 1, 2)
    assert next(s for s in status if s["provider"] == "groq")["quota_limits"]["rpm"] == 100


@pytest.mark.parametrize("url", [PRICE_ADD_URL, QUOTA_ADD_URL, "/admin/ai_providers/modelprice/"])
def test_the_admin_pages_render(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    if url.endswith("add/"):
        assert 'value="openrouter"' in response.content.decode()  # the registry's providers


def test_the_admin_refuses_an_unknown_provider_and_negative_numbers(admin_client):
    response = admin_client.post(
        PRICE_ADD_URL,
        {"provider": "acme", "model": "m", "input_usd_per_million": "-1", "output_usd_per_million": "1"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "acme is not one of the available choices" in str(errors["provider"])
    assert "greater than or equal to 0" in str(errors["input_usd_per_million"])
    response = admin_client.post(QUOTA_ADD_URL, quota_form("acme", rpm=-5))
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"provider", "rpm"}
    assert not ModelPrice.objects.exists()
    assert not ProviderQuota.objects.exists()


def test_one_price_per_provider_and_model(admin_client):
    ModelPrice.objects.create(provider="groq", model="m", input_usd_per_million=1, output_usd_per_million=1)
    response = admin_client.post(
        PRICE_ADD_URL, {"provider": "groq", "model": "m", "input_usd_per_million": "2", "output_usd_per_million": "2"}
    )
    assert response.status_code == 200
    assert ModelPrice.objects.get().input_usd_per_million == 1
