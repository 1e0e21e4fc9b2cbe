"""AI provider settings (docs/concepts/ai-providers.md; see the README "AI providers"), read from the
environment like the rest of config/settings.py, which imports AI_PROVIDERS from here."""

from __future__ import annotations

import json
import os

from config.env import env_float, env_int, env_list, env_str

# A provider with no key is not configured. With SWITCHBOARD_EMULATOR_URL set, each provider
# without a key points at the emulator with a dummy key, its results say "emulated": true,
# and its quotas are unlimited unless set explicitly (SWITCHBOARD_<PROVIDER>_RPM and so on).
_AI_EMULATOR_URL = env_str("SWITCHBOARD_EMULATOR_URL", "").rstrip("/")


def _ai_provider(name: str, env: str, real_url: str, emulator_path: str, limits: tuple[int, int, int, int]) -> dict:
    key = env_str("HF_TOKEN" if env == "HF" else f"{env}_API_KEY", "")
    base_url = env_str(f"{env}_BASE_URL", "").rstrip("/")
    if name == "openai_compatible" and base_url and not key:
        key = "not-needed"  # a local server (Ollama, vLLM) takes any key
    emulated = not key and bool(_AI_EMULATOR_URL)
    if emulated:
        key, base_url = "emulator-dummy-key", _AI_EMULATOR_URL + emulator_path
    quotas = {
        quota: env_int(f"SWITCHBOARD_{name.upper()}_{quota.upper()}", 0 if emulated else default)
        for quota, default in zip(("rpm", "tpm", "rpd", "tpd"), limits, strict=True)
    }
    return {"api_key": key, "base_url": base_url or real_url, "emulated": emulated, "quotas": quotas}


_GEMINI = f"gemini/{env_str('GEMINI_MODEL', 'gemini-2.5-flash')}"
_GROQ = f"groq/{env_str('GROQ_MODEL', 'llama-3.1-8b-instant')}"
_HF_SENTIMENT = env_str("HF_SENTIMENT_MODEL", "cardiffnlp/twitter-roberta-base-sentiment-latest")
_QWEN = "openrouter/qwen/qwen-2.5-72b-instruct"
AI_PROVIDERS = {
    # quotas (rpm, tpm, rpd, tpd): free-tier-like defaults; 0 = unlimited
    "PROVIDERS": {
        "gemini": _ai_provider(
            "gemini", "GEMINI", "https://generativelanguage.googleapis.com", "/gemini", (10, 250_000, 250, 0)
        )
        | {"api_version": env_str("GEMINI_API_VERSION", "v1beta")},
        "groq": _ai_provider("groq", "GROQ", "https://api.groq.com", "/groq", (30, 6_000, 14_400, 500_000)),
        "huggingface": _ai_provider("huggingface", "HF", "https://router.huggingface.co", "/hf", (60, 0, 1_000, 0))
        | {"classifiers": [_HF_SENTIMENT, *env_list("HF_CLASSIFIER_MODELS")]},  # answered by text classification
        "openrouter": _ai_provider(
            "openrouter", "OPENROUTER", "https://openrouter.ai/api/v1", "/openrouter/v1", (20, 0, 1_000, 0)
        ),
        "openai_compatible": _ai_provider(
            "openai_compatible", "OPENAI_COMPATIBLE", "", "/openai-compatible/v1", (0, 0, 0, 0)
        )
        | {"default_model": env_str("OPENAI_COMPATIBLE_MODEL", "llama3.2")},
    },
    # Task type -> chain of "provider/model". The admin's ProviderRoute rows override these and
    # a node's own `providers` list overrides both. SWITCHBOARD_AI_ROUTES (JSON) replaces entries.
    "ROUTES": {
        "content_generation": [_GEMINI, _QWEN],
        "quick_decision": [_GROQ, _GEMINI],
        "sentiment_analysis": [f"huggingface/{_HF_SENTIMENT}", _GEMINI],
        "math_reasoning": ["openrouter/z-ai/glm-4.5-air", _QWEN],
        "long_context": ["openrouter/moonshotai/kimi-dev-72b", _GEMINI],
        "code_generation": [_QWEN, _GEMINI],
    }
    | json.loads(os.environ.get("SWITCHBOARD_AI_ROUTES") or "{}"),
    # USD per 1M input / output tokens; a model not listed costs 0.
    "PRICES": {
        "gemini/gemini-2.5-flash": (0.30, 2.50),
        "groq/llama-3.1-8b-instant": (0.05, 0.08),
        "openrouter/z-ai/glm-4.5-air": (0.20, 1.10),
        "openrouter/moonshotai/kimi-dev-72b": (0.29, 1.15),
        "openrouter/qwen/qwen-2.5-72b-instruct": (0.12, 0.39),
    },
    "USER_CALLS_PER_DAY": env_int("SWITCHBOARD_AI_USER_CALLS_PER_DAY", 1_000),  # 0 = unlimited
    "BREAKER_THRESHOLD": env_int("SWITCHBOARD_AI_BREAKER_THRESHOLD", 5),  # consecutive failures
    "BREAKER_COOLDOWN_S": env_float("SWITCHBOARD_AI_BREAKER_COOLDOWN_S", 30),
    "TIMEOUT_S": env_float("SWITCHBOARD_AI_TIMEOUT_S", 30),  # one provider call
    "CONNECT_TIMEOUT_S": env_float("SWITCHBOARD_AI_CONNECT_TIMEOUT_S", 5),
    "MAX_RETRY_AFTER_WAIT_S": env_float("SWITCHBOARD_AI_MAX_RETRY_AFTER_WAIT_S", 2),
    "QUOTA_COOLDOWN_S": env_float("SWITCHBOARD_AI_QUOTA_COOLDOWN_S", 300),  # after a vendor says "quota spent"
    "ALL_DOWN_RETRY_S": env_float("SWITCHBOARD_AI_ALL_DOWN_RETRY_S", 5),  # Celery countdown when nothing says when
    "DEFAULT_MAX_TOKENS": env_int("SWITCHBOARD_AI_DEFAULT_MAX_TOKENS", 1_024),
    "RESPONSE_CACHE_TTL_S": env_int("SWITCHBOARD_AI_RESPONSE_CACHE_TTL_S", 0),  # 0 = off; temperature-0 calls only
    "ROUTES_CACHE_TTL_S": env_int("SWITCHBOARD_AI_ROUTES_CACHE_TTL_S", 60),
    # A worker keeps admin routes, prices and quotas this long in process (ai_providers/local_memo.py).
    "LOCAL_CACHE_S": env_float("SWITCHBOARD_AI_LOCAL_CACHE_S", 2),
    "LATENCY_SAMPLES": 1_000,  # kept per provider per day for p50/p95
}
