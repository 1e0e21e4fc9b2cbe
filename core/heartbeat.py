"""Worker liveness in Redis. Each worker's main process refreshes a key with a short TTL;
a node run's lease names the process that holds it, so the sweeper and the claim can
tell a dead holder within seconds instead of waiting for the lease or the broker.

The key also lists the pool's processes and those it saw die (`gone`): a pool child
killed under a live main process leaves the key alive, and a sweeper on another host
cannot look for the process itself."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

HOST = socket.gethostname()
_main_pid = os.getpid()
_stop = threading.Event()
# Pool children seen gone, kept as long as any lease they held could still be running.
GONE_KEPT_S, GONE_KEPT_MAX = 3600.0, 256
_pool_pids: Callable[[], Iterable[int]] = tuple  # none until a prefork pool is watched
_children: set[int] = set()
_gone: dict[int, float] = {}  # pid -> when it was first seen gone


def key_for(host: str, main_pid: int | str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:heartbeat:{host}|{main_pid}"


def holder_identity() -> str:
    """This process, as written into a lease: host, worker main pid, own pid."""
    return f"{HOST}|{_main_pid}|{os.getpid()}"


def set_main_pid(pid: int) -> None:
    global _main_pid
    _main_pid = pid


def watch_pool(pids: Callable[[], Iterable[int]]) -> None:
    """`pids()`: the worker pool's current processes (none for a threads pool)."""
    global _pool_pids
    _pool_pids = pids


def observe_pool(now: float) -> tuple[list[int], list[int]]:
    """(the pool's processes, those seen gone): a child that left the pool is gone until
    a new child gets its pid (never within seconds: Linux hands pids out in turn)."""
    global _children
    try:
        current = {int(pid) for pid in _pool_pids() if pid}
    except Exception:  # the pool is starting or stopping: keep what was seen
        current = set(_children)
    for pid in _children - current:
        _gone.setdefault(pid, now)
    for pid in current:
        _gone.pop(pid, None)
    expired = [pid for pid, since in _gone.items() if now - since > GONE_KEPT_S]
    oldest_first = sorted(_gone, key=_gone.__getitem__)
    for pid in {*expired, *oldest_first[: max(0, len(_gone) - GONE_KEPT_MAX)]}:
        del _gone[pid]
    _children = current
    return sorted(current), sorted(_gone)


def beat_once(queues: list[str] | None = None) -> None:
    now = time.time()
    children, gone = observe_pool(now)
    payload = json.dumps({"at": now, "pid": _main_pid, "queues": queues or [], "children": children, "gone": gone})
    get_redis_connection("default").set(key_for(HOST, _main_pid), payload, ex=int(settings.SWITCHBOARD.heartbeat_ttl_s))


def start(queues: list[str] | None = None) -> None:
    def loop() -> None:
        while not _stop.is_set():
            try:
                beat_once(queues)
            except Exception:
                logger.warning("worker heartbeat failed", exc_info=True)
            _stop.wait(settings.SWITCHBOARD.heartbeat_interval_s)

    _stop.clear()
    threading.Thread(target=loop, name="switchboard-heartbeat", daemon=True).start()


def stop() -> None:
    _stop.set()
    try:
        get_redis_connection("default").delete(key_for(HOST, _main_pid))
    except Exception:
        logger.warning("could not remove the worker heartbeat", exc_info=True)


def dead_holders(holders: set[str]) -> set[str]:
    """The holders among `holders` whose worker stopped beating, or whose process is gone
    although its worker beats (a killed pool child): on this host by asking the system,
    on any host by the worker's own list of children it saw die."""
    if not holders:
        return set()
    parsed = {h: h.split("|") for h in holders if h.count("|") == 2}
    keys = sorted({key_for(host, main) for host, main, _ in parsed.values()})
    beats = {k: _gone_of(v) for k, v in zip(keys, get_redis_connection("default").mget(keys), strict=True) if v}
    dead = {h for h in holders if h not in parsed}
    for holder, (host, main, pid) in parsed.items():
        gone = beats.get(key_for(host, main))
        if gone is None or int(pid) in gone or (host == HOST and not process_alive(int(pid))):
            dead.add(holder)
    return dead


def _gone_of(payload: bytes) -> set[int]:
    try:
        return {int(pid) for pid in json.loads(payload).get("gone", ())}
    except (ValueError, TypeError, AttributeError):
        return set()  # a heartbeat of an older version: alive, no list


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
