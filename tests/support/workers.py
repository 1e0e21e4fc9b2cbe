"""Real Celery workers for tests: an in-process one (solo pool, a thread of the test
process) and real `celery worker` processes for concurrency and crash tests."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

from tests.support.markers import require_marker

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Polls until predicate() is truthy and returns its value; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def session_database_url() -> str:
    """The URL of this session's test database, for worker processes to open."""
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    user, password = conf.get("USER") or "", conf.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"


def ping_workers(timeout: float = 30.0, queue: str = "default") -> None:
    """Sends workers.ping through the broker and waits for a worker to answer."""
    from core.liveness import ping_workers as ping

    assert ping((queue,), timeout=timeout), f"no worker answered on {queue!r} within {timeout}s"


class WorkerProcess:
    """A `celery worker` (or, with `command`, any manage.py/celery command) on the test
    database, logging to var/. `prefix` starts it through a launcher, such as
    `ip netns exec <namespace>` (tests/support/netns.py)."""

    def __init__(
        self,
        queues: str,
        concurrency: int,
        pool: str,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
        include: str | None = None,
        prefix: list[str] | None = None,
    ):
        self.queues, self.concurrency, self.pool = queues, concurrency, pool
        self.prefix = prefix or []
        self.extra_env = extra_env or {}
        self.command = command
        self.include = include
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"test-worker-{secrets.token_hex(3)}.log"

    def child_env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": session_database_url(), **self.extra_env}

    def start(self) -> WorkerProcess:
        require_marker("worker_process", "starts a celery worker process")
        env = self.child_env()
        self.log_path.parent.mkdir(exist_ok=True)
        log = self.log_path.open("wb")
        command = self.command or [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            self.queues,
            "-c",
            str(self.concurrency),
            "-P",
            self.pool,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"test-{secrets.token_hex(3)}@%h",
            *(["--include", self.include] if self.include else []),
        ]
        self.process = subprocess.Popen(
            [*self.prefix, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def worker_process(
    queues: str = "default,nodes,ai",
    concurrency: int = 2,
    pool: str = "prefork",
    extra_env: dict[str, str] | None = None,
    ping: bool = True,
    include: str | None = None,
) -> Iterator[WorkerProcess]:
    """ping=False for a worker on another broker than this process's; include: modules
    of tasks beyond the project's (comma-separated), as `celery worker --include`."""
    worker = WorkerProcess(queues, concurrency, pool, extra_env, include=include).start()
    try:
        if ping:  # on one of this worker's own queues, so that it is this one that answers
            ping_workers(queue=queues.split(",")[0])
        yield worker
    except BaseException:
        sys.stderr.write(worker.log()[-5000:])
        raise
    finally:
        worker.stop()


@contextmanager
def in_process_worker(queues: tuple[str, ...] = ("default", "nodes", "ai")) -> Iterator[Any]:
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    require_marker("worker_thread", "runs a celery worker in a thread")
    with start_worker(
        app, pool="solo", concurrency=1, queues=list(queues), perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker
