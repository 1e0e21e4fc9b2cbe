"""`manage.py provider_emulator --port N`: the provider emulator in the foreground."""

from __future__ import annotations

import ipaddress
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ai_providers.emulator import EmulatorServer


class Command(BaseCommand):
    help = "Serves emulated Gemini, Groq, Hugging Face, OpenRouter and OpenAI-compatible APIs on one port."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Bind address (default 127.0.0.1). The control API answers loopback peers only.",
        )

    def handle(self, *args, port: int, host: str, **options) -> None:
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise CommandError(f"--host must be an IP address, not {host!r}.") from exc
        server = EmulatorServer(host, port)
        self.stdout.write(f"Provider emulator on {server.url} (every answer says it is emulated)", ending="\n")
        self.stdout.flush()
        # SIGTERM (how process managers, `make run` among them, stop it) ends it as Ctrl-C does.
        signal.signal(signal.SIGTERM, stop_serving)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def stop_serving(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
