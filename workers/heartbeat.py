"""Worker liveness in Redis. Each worker's main process refreshes a key with a short TTL;
a node run's lease names the process that holds it, so the sweeper and the claim can
tell a dead holder within seconds instead of waiting for the lease or the broker."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

HOST = socket.gethostname()
_main_pid = os.getpid()
_stop = threading.Event()


def key_for(host: str, main_pid: int | str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:heartbeat:{host}|{main_pid}"


def holder_identity() -> str:
    """This process, as written into a lease: host, worker main pid, own pid."""
    return f"{HOST}|{_main_pid}|{os.getpid()}"


def set_main_pid(pid: int) -> None:
    global _main_pid
    _main_pid = pid


def beat_once(queues: list[str] | None = None) -> None:
    payload = json.dumps({"at": time.time(), "pid": _main_pid, "queues": queues or []})
    get_redis_connection("default").set(
        key_for(HOST, _main_pid), payload, ex=int(settings.SWITCHBOARD["HEARTBEAT_TTL_S"])
    )


def start(queues: list[str] | None = None) -> None:
    def loop() -> None:
        while not _stop.is_set():
            try:
                beat_once(queues)
            except Exception:
                logger.warning("worker heartbeat failed", exc_info=True)
            _stop.wait(settings.SWITCHBOARD["HEARTBEAT_INTERVAL_S"])

    _stop.clear()
    threading.Thread(target=loop, name="switchboard-heartbeat", daemon=True).start()


def stop() -> None:
    _stop.set()
    try:
        get_redis_connection("default").delete(key_for(HOST, _main_pid))
    except Exception:
        logger.warning("could not remove the worker heartbeat", exc_info=True)


def dead_holders(holders: set[str]) -> set[str]:
    """The holders among `holders` whose worker stopped beating, or (on this host) whose
    process is gone: a killed pool child leaves its worker's heartbeat alive."""
    if not holders:
        return set()
    parsed = {h: h.split("|") for h in holders if h.count("|") == 2}
    keys = sorted({key_for(host, main) for host, main, _ in parsed.values()})
    alive_keys = {k for k, v in zip(keys, get_redis_connection("default").mget(keys), strict=True) if v}
    dead = {h for h in holders if h not in parsed}
    for holder, (host, main, pid) in parsed.items():
        if key_for(host, main) not in alive_keys or (host == HOST and not process_alive(int(pid))):
            dead.add(holder)
    return dead


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
