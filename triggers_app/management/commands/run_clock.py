"""`manage.py run_clock`: the schedule clock (triggers_app/schedules/clock.py) until
SIGTERM or SIGINT. It stops between two turns: a turn's transaction is committed or rolled
back whole, so a stop never leaves a tick half-fired."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from triggers_app.schedules import clock

logger = logging.getLogger("triggers_app.schedules.clock")


class Command(BaseCommand):
    help = "Fires due schedules until SIGTERM or SIGINT (any number of clocks may run: each tick fires once)."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: object) -> None:
            logger.info("clock: %s received, stopping after this turn", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        logger.info("clock: started (looks at least every %gs)", min(settings.SWITCHBOARD.clock_interval_s, 0.5))
        clock.run(stop)
        logger.info("clock: stopped")
