"""The AI_PROVIDERS settings built from the environment (a fresh process per case)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
_PRINT = """
import json
from django.conf import settings
conf = settings.AI_PROVIDERS
print(json.dumps({
    name: {"emulated": p["emulated"], "base_url": p["base_url"], "has_key": bool(p["api_key"]),
           "rpm": p["quotas"]["rpm"]}
    for name, p in conf["PROVIDERS"].items()
} | {"routes": conf["ROUTES"]}))
"""
_PROVIDER_ENV = {
    *("GEMINI_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "OPENROUTER_API_KEY", "OPENAI_COMPATIBLE_API_KEY"),
    *("GEMINI_BASE_URL", "GROQ_BASE_URL", "HF_BASE_URL", "OPENROUTER_BASE_URL", "OPENAI_COMPATIBLE_BASE_URL"),
    *("SWITCHBOARD_EMULATOR_URL", "GEMINI_MODEL", "GROQ_MODEL"),
}


def ai_settings_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in _PROVIDER_ENV}
    command = [sys.executable, "-c", f"import django; django.setup(); {_PRINT}"]
    output = subprocess.run(
        command, cwd=ROOT, env=clean | {"DJANGO_SETTINGS_MODULE": "config.settings", **env}, capture_output=True
    )
    assert output.returncode == 0, output.stderr.decode()[-2000:]
    return json.loads(output.stdout.decode().strip().splitlines()[-1])


def test_the_emulator_url_stands_in_for_every_provider_without_a_key():
    conf = ai_settings_with(SWITCHBOARD_EMULATOR_URL="http://127.0.0.1:9999/", GROQ_API_KEY="gsk_real")
    assert conf["gemini"] == {"emulated": True, "base_url": "http://127.0.0.1:9999/gemini", "has_key": True, "rpm": 0}
    assert conf["openrouter"]["base_url"] == "http://127.0.0.1:9999/openrouter/v1"
    assert conf["groq"] == {"emulated": False, "base_url": "https://api.groq.com", "has_key": True, "rpm": 30}


def test_without_keys_or_emulator_nothing_is_configured_and_local_servers_need_no_key():
    conf = ai_settings_with(OPENAI_COMPATIBLE_BASE_URL="http://127.0.0.1:11434/v1", GEMINI_MODEL="gemini-2.0-flash")
    assert not any(conf[name]["has_key"] for name in ("gemini", "groq", "huggingface", "openrouter"))
    assert conf["openai_compatible"]["has_key"] is True
    assert conf["openai_compatible"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert conf["routes"]["content_generation"][0] == "gemini/gemini-2.0-flash"
