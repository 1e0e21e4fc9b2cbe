"""The provider emulator on a free port for the whole session, and settings that point
every provider at it with distinctive fake keys (so a test can grep for them)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import httpx
import pytest
from django.conf import settings as django_settings
from django_redis import get_redis_connection

from ai_providers.base import reset_clients
from ai_providers.emulator import EmulatorServer, start_emulator

FAKE_KEYS = {
    "gemini": "AIzaFAKE-gemini-key-4d1c7e",
    "groq": "gsk_FAKE-groq-key-9b2a11",
    "huggingface": "hf_FAKE-hf-token-51fe08",
    "openrouter": "sk-or-FAKE-openrouter-key-c3d9a0",
    "openai_compatible": "sk-FAKE-compatible-key-77e2b4",
}
PATHS = {
    "gemini": "/gemini",
    "groq": "/groq",
    "huggingface": "/hf",
    "openrouter": "/openrouter/v1",
    "openai_compatible": "/openai-compatible/v1",
}
CLIENT_TIMEOUT_S = 1.0


class Emulator:
    """The running emulator and its control API, spoken over HTTP like any client would."""

    def __init__(self, server: EmulatorServer):
        self.server, self.url = server, server.url
        self.http = httpx.Client(base_url=server.url, trust_env=False, timeout=5)

    def fault(self, **fault: object) -> None:
        response = self.http.post("/_emulator/faults", json=fault)
        assert response.status_code == 201, response.text

    def calls(self, provider: str | None = None, model: str | None = None) -> int:
        counts = self.http.get("/_emulator/calls").json()
        if model is not None:
            return counts["models"].get(f"{provider}/{model}", 0)
        if provider is not None:
            return counts["providers"].get(provider, 0)
        return counts["total"]

    def clear_faults(self) -> None:
        """Every provider answers normally again; the call counters are kept."""
        self.http.delete("/_emulator/faults").raise_for_status()

    def reset(self) -> None:
        self.http.post("/_emulator/reset").raise_for_status()


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    server = start_emulator()
    yield Emulator(server)
    server.stop()


@pytest.fixture
def ai_settings(settings, emulator, db) -> Iterator[dict]:
    """AI_PROVIDERS pointing at the emulator: fake keys, unlimited quotas, a 1 s client
    timeout, a breaker that opens after 3 failures for 1 s. Tests edit the returned dict."""
    conf = copy.deepcopy(django_settings.AI_PROVIDERS)
    for name, provider in conf["PROVIDERS"].items():
        provider.update(
            api_key=FAKE_KEYS[name],
            base_url=emulator.url + PATHS[name],
            emulated=True,
            quotas={"rpm": 0, "tpm": 0, "rpd": 0, "tpd": 0},
        )
    conf.update(
        TIMEOUT_S=CLIENT_TIMEOUT_S,
        CONNECT_TIMEOUT_S=1.0,
        BREAKER_THRESHOLD=3,
        BREAKER_COOLDOWN_S=1.0,
        USER_CALLS_PER_DAY=0,
        RESPONSE_CACHE_TTL_S=0,
        ROUTES_CACHE_TTL_S=60,
    )
    settings.AI_PROVIDERS = conf
    emulator.reset()
    _drop_ai_keys()
    reset_clients()
    yield conf
    emulator.reset()
    reset_clients()


def _drop_ai_keys() -> None:
    redis = get_redis_connection("default")
    for key in redis.scan_iter(match=f"{django_settings.REDIS_KEY_PREFIX}:ai:*", count=1000):
        redis.delete(key)
