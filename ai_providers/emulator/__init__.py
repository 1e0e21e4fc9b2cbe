"""The provider emulator: a real HTTP server speaking the wire formats of the AI SDKs
(docs/concepts/ai-providers.md), deterministic, with faults on request. Start it with
`manage.py provider_emulator --port N` or, in-process, `start_emulator()`."""

from __future__ import annotations

from ai_providers.emulator.server import EmulatorServer


def start_emulator(host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    """Serves in a daemon thread; port 0 picks a free one (read it from `.url`)."""
    return EmulatorServer(host, port).start_in_thread()


__all__ = ["EmulatorServer", "start_emulator"]
