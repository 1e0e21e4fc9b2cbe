"""CPU time of sets of processes (the web server's process group, each Celery worker's,
the PostgreSQL backends serving the bench's database) and of the whole machine, read
with psutil before and after a measured stretch."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import psutil

# Which processes of the machine belong to a set; asked again at every reading.
Selector = Callable[[psutil.Process], bool]


def listening_group(base_url: str) -> int:
    """The process group of whatever listens on the URL's port: the web server's master
    and its workers, whichever server the Procfile runs (running_web starts it in a
    session of its own, so the group is exactly its processes)."""
    port = urlsplit(base_url).port
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return os.getpgid(conn.pid)
    raise LookupError(f"nothing listens on port {port}")


def in_group(pgid: int) -> Selector:
    return lambda process: os.getpgid(process.pid) == pgid


def postgres_backends(database: str) -> Selector:
    """A PostgreSQL backend's process title names its database: `postgres: 15/main:
    <user> <database> <client> <state>`."""
    return lambda process: process.name() == "postgres" and f" {database} " in " ".join(process.cmdline())


def cpu_s(selector: Selector) -> dict[tuple[int, float], float]:
    """CPU seconds (user + system, and of children already reaped) of each live process
    selected, keyed by (pid, start time) so a replaced process is not mistaken for its
    predecessor."""
    seconds = {}
    for process in psutil.process_iter():
        try:
            if selector(process):
                t = process.cpu_times()
                seconds[(process.pid, process.create_time())] = t.user + t.system + t.children_user + t.children_system
        except (psutil.Error, ProcessLookupError):
            continue
    return seconds


def machine_busy_s() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


class CpuWatch:
    """CPU used by each named set of processes, by this process and by the machine, from
    start() to stop(). The sets are read every SAMPLE_S in between, so a process that
    exits (a database connection past its CONN_MAX_AGE, a replaced web worker) loses at
    most its last interval; one that starts in between counts from zero."""

    SAMPLE_S = 1.0

    def __init__(self, sets: dict[str, Selector]):
        self.sets = sets
        self._first: dict[str, dict[tuple[int, float], float]] = {}
        self._last: dict[str, dict[tuple[int, float], float]] = {name: {} for name in sets}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample_until_stopped, name="cpu-sampler", daemon=True)

    def _read(self) -> None:
        for name, selector in self.sets.items():
            self._last[name].update(cpu_s(selector))

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.SAMPLE_S):
            self._read()

    def start(self) -> CpuWatch:
        self._first = {name: cpu_s(selector) for name, selector in self.sets.items()}
        self._own = psutil.Process().cpu_times()
        self._machine = machine_busy_s()
        self._wall = time.perf_counter()
        self._sampler.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self._sampler.join()
        self._read()
        wall = time.perf_counter() - self._wall
        used = {
            name: sum(s - self._first[name].get(key, 0.0) for key, s in self._last[name].items()) for name in self.sets
        }
        own = psutil.Process().cpu_times()
        used["bench client"] = own.user + own.system - self._own.user - self._own.system
        machine = machine_busy_s() - self._machine
        # Redis, PostgreSQL's own background processes, and whatever else shares the machine.
        used["rest of the machine"] = machine - sum(used.values())
        return {
            "wall_s": round(wall, 2),
            "machine_busy_cores": round(machine / wall, 2),
            "cpu_s": {name: round(s, 2) for name, s in used.items()},
        }
