"""`manage.py wait_for_worker [--timeout S]`: waits until a Celery worker answers a control
ping, then exits 0; also when none answered within the timeout, so that what follows
starts anyway.

The Procfile's Flower starts after it. Flower asks the workers what they are (inspect
`stats`, `active_queues`, `registered`, `conf`) once, when it starts, and again only when
a page asks for a refresh: started beside the workers (make run, docker compose), it
asked before any was up and logged `Inspect method registered failed`, and the same for
each of the others. The workers answered all along (`celery -A config inspect
registered`). A control ping takes the same way as those inspections (the broker's
control exchange to each worker's main process), so once one answers, Flower's do."""

from __future__ import annotations

import time
from typing import Any

from celery import current_app as app  # the project's app (config/celery.py), set current at start
from django.core.management.base import BaseCommand, CommandParser
from kombu.exceptions import OperationalError

# Workers take a few seconds to start; past this Flower starts anyway and its warnings
# then mean what they say: no worker answered.
DEFAULT_TIMEOUT_S = 30.0
PING_TIMEOUT_S = 1.0


def worker_answers() -> bool:
    """True when at least one worker answered a control ping (returns at the first)."""
    try:
        return bool(app.control.ping(timeout=PING_TIMEOUT_S, limit=1))
    except OperationalError:  # the broker is not up yet either
        time.sleep(PING_TIMEOUT_S)
        return False


class Command(BaseCommand):
    help = "Wait until a Celery worker answers a control ping (Flower's start-up inspection needs one)."
    requires_system_checks: list[str] = []  # a wait depends on none of them: start it sooner

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds to wait at most")

    def handle(self, *args: Any, timeout: float, **options: Any) -> None:
        self.stderr.write(f"waiting up to {timeout:g} s for a worker to answer")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker_answers():
                self.stderr.write("a worker answered")
                return
        self.stderr.write(f"no worker answered within {timeout:g} s; going on without one")
