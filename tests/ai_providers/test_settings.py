"""The AI_PROVIDERS settings built from the environment (config/settings_ai.py): a pure
function of the variables, so each case passes its own environment."""

from __future__ import annotations

from typing import Any

from config.settings_ai import ai_providers_from_env


def summary(env: dict[str, str]) -> dict[str, Any]:
    conf = ai_providers_from_env(env)
    return {
        name: {
            "emulated": p["emulated"],
            "base_url": p["base_url"],
            "has_key": bool(p["api_key"]),
            "rpm": p["quotas"]["rpm"],
        }
        for name, p in conf["PROVIDERS"].items()
    } | {"routes": conf["ROUTES"]}


def test_the_emulator_url_stands_in_for_every_provider_without_a_key():
    conf = summary({"SWITCHBOARD_EMULATOR_URL": "http://127.0.0.1:9999/", "GROQ_API_KEY": "gsk_real"})
    assert conf["gemini"] == {"emulated": True, "base_url": "http://127.0.0.1:9999/gemini", "has_key": True, "rpm": 0}
    assert conf["openrouter"]["base_url"] == "http://127.0.0.1:9999/openrouter/v1"
    assert conf["groq"] == {"emulated": False, "base_url": "https://api.groq.com", "has_key": True, "rpm": 30}


def test_without_keys_or_emulator_nothing_is_configured_and_local_servers_need_no_key():
    conf = summary({"OPENAI_COMPATIBLE_BASE_URL": "http://127.0.0.1:11434/v1", "GEMINI_MODEL": "gemini-2.0-flash"})
    assert not any(conf[name]["has_key"] for name in ("gemini", "groq", "huggingface", "openrouter"))
    assert conf["openai_compatible"]["has_key"] is True
    assert conf["openai_compatible"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert conf["routes"]["content_generation"][0] == "gemini/gemini-2.0-flash"


def test_routes_from_the_environment_replace_single_task_types():
    conf = summary({"SWITCHBOARD_AI_ROUTES": '{"quick_decision": ["gemini/gemini-2.5-flash"]}'})
    assert conf["routes"]["quick_decision"] == ["gemini/gemini-2.5-flash"]
    assert conf["routes"]["content_generation"][0] == "gemini/gemini-2.5-flash"  # the others stay
