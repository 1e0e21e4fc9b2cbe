"""AI provider settings (docs/concepts/ai-providers.md), made from the environment by a pure
function; config/settings.py imports AI_PROVIDERS from here."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from config.env import env_float, env_int, env_list, env_str

# A provider with no key is not configured. With SWITCHBOARD_EMULATOR_URL set, each provider
# without a key points at the emulator with a dummy key, its results say "emulated": true,
# and its quotas are unlimited unless set explicitly (SWITCHBOARD_<PROVIDER>_RPM and so on).


def _ai_provider(
    env: Mapping[str, str],
    emulator_url: str,
    name: str,
    prefix: str,
    real_url: str,
    emulator_path: str,
    limits: tuple[int, int, int, int],
) -> dict[str, Any]:
    key = env_str("HF_TOKEN" if prefix == "HF" else f"{prefix}_API_KEY", "", env)
    base_url = env_str(f"{prefix}_BASE_URL", "", env).rstrip("/")
    if name == "openai_compatible" and base_url and not key:
        key = "not-needed"  # a local server (Ollama, vLLM) takes any key
    emulated = not key and bool(emulator_url)
    if emulated:
        key, base_url = "emulator-dummy-key", emulator_url + emulator_path
    quotas = {
        quota: env_int(f"SWITCHBOARD_{name.upper()}_{quota.upper()}", 0 if emulated else default, env)
        for quota, default in zip(("rpm", "tpm", "rpd", "tpd"), limits, strict=True)
    }
    return {"api_key": key, "base_url": base_url or real_url, "emulated": emulated, "quotas": quotas}


def ai_providers_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The AI_PROVIDERS setting that `env` describes (pure: a test passes a dict)."""
    emulator_url = env_str("SWITCHBOARD_EMULATOR_URL", "", env).rstrip("/")

    def provider(*args: Any) -> dict[str, Any]:
        return _ai_provider(env, emulator_url, *args)

    gemini = f"gemini/{env_str('GEMINI_MODEL', 'gemini-2.5-flash', env)}"
    groq = f"groq/{env_str('GROQ_MODEL', 'llama-3.1-8b-instant', env)}"
    hf_sentiment = env_str("HF_SENTIMENT_MODEL", "cardiffnlp/twitter-roberta-base-sentiment-latest", env)
    qwen = "openrouter/qwen/qwen-2.5-72b-instruct"
    return {
        # quotas (rpm, tpm, rpd, tpd): free-tier-like defaults; 0 = unlimited
        "PROVIDERS": {
            "gemini": provider(
                "gemini", "GEMINI", "https://generativelanguage.googleapis.com", "/gemini", (10, 250_000, 250, 0)
            )
            | {"api_version": env_str("GEMINI_API_VERSION", "v1beta", env)},
            "groq": provider("groq", "GROQ", "https://api.groq.com", "/groq", (30, 6_000, 14_400, 500_000)),
            "huggingface": provider("huggingface", "HF", "https://router.huggingface.co", "/hf", (60, 0, 1_000, 0))
            # Answered by text classification.
            | {"classifiers": [hf_sentiment, *env_list("HF_CLASSIFIER_MODELS", env=env)]},
            "openrouter": provider(
                "openrouter", "OPENROUTER", "https://openrouter.ai/api/v1", "/openrouter/v1", (20, 0, 1_000, 0)
            ),
            "openai_compatible": provider(
                "openai_compatible", "OPENAI_COMPATIBLE", "", "/openai-compatible/v1", (0, 0, 0, 0)
            )
            | {"default_model": env_str("OPENAI_COMPATIBLE_MODEL", "llama3.2", env)},
        },
        # Task type -> chain of "provider/model". The admin's ProviderRoute rows override these and
        # a node's own `providers` list overrides both. SWITCHBOARD_AI_ROUTES (JSON) replaces entries.
        "ROUTES": {
            "content_generation": [gemini, qwen],
            "quick_decision": [groq, gemini],
            "sentiment_analysis": [f"huggingface/{hf_sentiment}", gemini],
            "math_reasoning": ["openrouter/z-ai/glm-4.5-air", qwen],
            "long_context": ["openrouter/moonshotai/kimi-dev-72b", gemini],
            "code_generation": [qwen, gemini],
        }
        | json.loads(env.get("SWITCHBOARD_AI_ROUTES") or "{}"),
        # USD per 1M input / output tokens; a model not listed costs 0.
        "PRICES": {
            "gemini/gemini-2.5-flash": (0.30, 2.50),
            "groq/llama-3.1-8b-instant": (0.05, 0.08),
            "openrouter/z-ai/glm-4.5-air": (0.20, 1.10),
            "openrouter/moonshotai/kimi-dev-72b": (0.29, 1.15),
            "openrouter/qwen/qwen-2.5-72b-instruct": (0.12, 0.39),
        },
        "USER_CALLS_PER_DAY": env_int("SWITCHBOARD_AI_USER_CALLS_PER_DAY", 1_000, env),  # 0 = unlimited
        "BREAKER_THRESHOLD": env_int("SWITCHBOARD_AI_BREAKER_THRESHOLD", 5, env),  # consecutive failures
        "BREAKER_COOLDOWN_S": env_float("SWITCHBOARD_AI_BREAKER_COOLDOWN_S", 30, env),
        "TIMEOUT_S": env_float("SWITCHBOARD_AI_TIMEOUT_S", 30, env),  # one provider call
        "CONNECT_TIMEOUT_S": env_float("SWITCHBOARD_AI_CONNECT_TIMEOUT_S", 5, env),
        "MAX_RETRY_AFTER_WAIT_S": env_float("SWITCHBOARD_AI_MAX_RETRY_AFTER_WAIT_S", 2, env),
        # After a vendor says "quota spent".
        "QUOTA_COOLDOWN_S": env_float("SWITCHBOARD_AI_QUOTA_COOLDOWN_S", 300, env),
        # The Celery countdown when nothing says when.
        "ALL_DOWN_RETRY_S": env_float("SWITCHBOARD_AI_ALL_DOWN_RETRY_S", 5, env),
        "DEFAULT_MAX_TOKENS": env_int("SWITCHBOARD_AI_DEFAULT_MAX_TOKENS", 1_024, env),
        # 0 = off; temperature-0 calls only.
        "RESPONSE_CACHE_TTL_S": env_int("SWITCHBOARD_AI_RESPONSE_CACHE_TTL_S", 0, env),
        "ROUTES_CACHE_TTL_S": env_int("SWITCHBOARD_AI_ROUTES_CACHE_TTL_S", 60, env),
        # A worker keeps admin routes, prices and quotas this long in process (ai_providers/local_memo.py).
        "LOCAL_CACHE_S": env_float("SWITCHBOARD_AI_LOCAL_CACHE_S", 2, env),
        "LATENCY_SAMPLES": 1_000,  # kept per provider per day for p50/p95
    }


AI_PROVIDERS = ai_providers_from_env(os.environ)
