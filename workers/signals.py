"""Worker lifecycle: heartbeats from the main process; pool children learn its pid."""

from __future__ import annotations

import os
from typing import Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from workers import heartbeat


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    queues = [q.name for q in sender.app.amqp.queues.consume_from.values()] if sender else []
    heartbeat.set_main_pid(os.getpid())
    heartbeat.beat_once(queues)
    heartbeat.start(queues)


@worker_process_init.connect
def remember_worker_pid(**kwargs: Any) -> None:
    heartbeat.set_main_pid(os.getppid())


@worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    heartbeat.stop()
