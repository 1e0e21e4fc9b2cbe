"""The provider emulator as the tests speak to it (over HTTP, as any client would), and
the distinctive fake keys every provider is given (so a test can grep for them)."""

from __future__ import annotations

import httpx

from ai_providers.emulator import EmulatorServer

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
