"""Each task type reaches its primary provider through the real SDK, and the chain's
precedence: a node's providers, then the admin's route, then settings."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from ai_providers.admin import ProviderRouteAdmin
from ai_providers.base import TASK_TYPES, Completion
from ai_providers.models import ProviderRoute
from ai_providers.router import forget_admin_routes, parse_chain, provider_chain_for
from ai_providers.services import complete_with_fallback

PRIMARIES = {
    "content_generation": ("gemini", "gemini-2.5-flash"),
    "quick_decision": ("groq", "llama-3.1-8b-instant"),
    "sentiment_analysis": ("huggingface", "cardiffnlp/twitter-roberta-base-sentiment-latest"),
    "math_reasoning": ("openrouter", "z-ai/glm-4.5-air"),
    "long_context": ("openrouter", "moonshotai/kimi-dev-72b"),
    "code_generation": ("openrouter", "qwen/qwen-2.5-72b-instruct"),
}


def test_default_routes_match_the_design_table(db):
    routes = {task: [str(link) for link in provider_chain_for(task)] for task in TASK_TYPES}
    assert routes == {
        "content_generation": ["gemini/gemini-2.5-flash", "openrouter/qwen/qwen-2.5-72b-instruct"],
        "quick_decision": ["groq/llama-3.1-8b-instant", "gemini/gemini-2.5-flash"],
        "sentiment_analysis": [
            "huggingface/cardiffnlp/twitter-roberta-base-sentiment-latest",
            "gemini/gemini-2.5-flash",
        ],
        "math_reasoning": ["openrouter/z-ai/glm-4.5-air", "openrouter/qwen/qwen-2.5-72b-instruct"],
        "long_context": ["openrouter/moonshotai/kimi-dev-72b", "gemini/gemini-2.5-flash"],
        "code_generation": ["openrouter/qwen/qwen-2.5-72b-instruct", "gemini/gemini-2.5-flash"],
    }


@pytest.mark.server
@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_each_task_type_is_answered_by_its_primary(ai_settings, emulator, task_type):
    attempts: list[dict] = []
    result = complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt="Thanks, the support was great and fast!"),
        user_id=1,
        attempt_log=attempts,
    )
    provider, model = PRIMARIES[task_type]
    assert (result.provider, result.model) == (provider, model)
    assert result.emulated is True
    assert result.fallback_used is False
    assert attempts == [{"n": 1, "provider": provider, "model": model, "latency_ms": result.latency_ms}]
    assert emulator.calls(provider, model) == 1
    assert emulator.calls() == 1
    if task_type == "sentiment_analysis":
        assert result.label == "positive"
        assert 0.5 < result.score <= 1
    else:
        assert result.text.startswith(f"[emulated {model}]")
        assert result.usage.input_tokens > 0
        assert result.usage.output_tokens > 0


@pytest.mark.server
def test_code_generation_answers_a_code_block(ai_settings):
    result = complete_with_fallback(
        task_type="code_generation",
        request=Completion(prompt="Write a Python function that adds two numbers"),
        user_id=1,
        attempt_log=[],
    )
    assert "```python" in result.text


@pytest.mark.server
def test_node_providers_win_over_admin_and_settings(ai_settings, emulator):
    ProviderRoute.objects.create(task_type="content_generation", chain=["groq/llama-3.1-8b-instant"])
    forget_admin_routes()
    result = complete_with_fallback(
        task_type="content_generation",
        request=Completion(prompt="hello"),
        chain_override=["openai_compatible/llama3.2", "gemini/gemini-2.5-flash"],
        user_id=1,
        attempt_log=[],
    )
    assert (result.provider, result.model) == ("openai_compatible", "llama3.2")


@pytest.mark.server
def test_admin_route_wins_over_settings_and_is_seen_at_once(ai_settings, emulator):
    request = Completion(prompt="hello")
    first = complete_with_fallback(task_type="content_generation", request=request, user_id=1, attempt_log=[])
    assert first.provider == "gemini"  # the settings route, now cached
    ProviderRoute.objects.create(task_type="content_generation", chain=["groq/llama-3.1-8b-instant"])
    forget_admin_routes()  # what the admin does on save
    second = complete_with_fallback(task_type="content_generation", request=request, user_id=1, attempt_log=[])
    assert (second.provider, second.model) == ("groq", "llama-3.1-8b-instant")


@pytest.mark.server
def test_a_disabled_admin_route_is_ignored(ai_settings):
    ProviderRoute.objects.create(task_type="quick_decision", chain=["openrouter/z-ai/glm-4.5-air"], enabled=False)
    forget_admin_routes()
    assert [str(link) for link in provider_chain_for("quick_decision")] == settings.AI_PROVIDERS["ROUTES"][
        "quick_decision"
    ]


def _admin_save(data: dict) -> object:
    """What the admin's add page does with a posted form: validate it, then save_model."""
    request = RequestFactory().post("/admin/ai_providers/providerroute/add/")
    request.user = AnonymousUser()
    model_admin = ProviderRouteAdmin(ProviderRoute, admin.site)
    form = model_admin.get_form(request)(data)
    if form.is_valid():
        model_admin.save_model(request, form.save(commit=False), form, change=False)
    return form


@pytest.mark.server
def test_saving_a_route_in_the_admin_reroutes_the_next_call(ai_settings):
    complete_with_fallback(task_type="quick_decision", request=Completion(prompt="yes?"), user_id=1, attempt_log=[])
    form = _admin_save({"task_type": "quick_decision", "chain": '["gemini/gemini-2.5-flash"]', "enabled": "on"})
    assert form.is_valid(), form.errors
    result = complete_with_fallback(
        task_type="quick_decision", request=Completion(prompt="yes?"), user_id=1, attempt_log=[]
    )
    assert result.provider == "gemini"


@pytest.mark.server
def test_the_admin_refuses_an_unknown_provider(ai_settings):
    form = _admin_save({"task_type": "quick_decision", "chain": '["nope/model"]', "enabled": "on"})
    assert "Unknown provider" in str(form.errors["chain"])
    assert not ProviderRoute.objects.exists()


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ([], "non-empty list"),
        (["acme/model"], "Unknown provider"),
        (["gemini"], "names no model"),
        ([42], "provider/model"),
    ],
)
def test_bad_chains_are_refused_with_a_clear_message(chain, message):
    with pytest.raises(ValueError, match=message):
        parse_chain(chain)


@pytest.mark.server
def test_a_bare_provider_with_a_default_model_is_accepted(ai_settings):
    assert [str(link) for link in parse_chain(["openai_compatible"])] == ["openai_compatible/llama3.2"]
