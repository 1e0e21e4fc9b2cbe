"""`make run` for real: `python -m config.launcher` on a fresh var dir, with no DATABASE_URL
and no REDIS_URL, exactly as on a fresh clone; then Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from celery import Celery

from config.embedded_redis import free_port
from config.launcher_after_start import allow_demo_endpoint
from tests.workers_support import wait_for

ROOT = Path(__file__).resolve().parents[2]
# What the test session sets for itself; a real `make run` sees none of it.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_REDIS_URL", "SECRET_KEY", "DEBUG")
PROVIDER_KEYS = ("GEMINI_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "OPENROUTER_API_KEY", "OPENAI_COMPATIBLE_BASE_URL")


def launcher_env(var_dir: Path, web_port: int, flower_port: int) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in NOT_INHERITED + PROVIDER_KEYS and not name.startswith(("SWITCHBOARD_", "FLOWER_"))
    }
    env.update(
        SWITCHBOARD_VAR_DIR=str(var_dir),
        SWITCHBOARD_PORT=str(web_port),
        SWITCHBOARD_FLOWER_PORT=str(flower_port),
        PYTHONUNBUFFERED="1",
    )
    return env


def banner_value(output: str, pattern: str) -> re.Match[str]:
    match = re.search(pattern, output)
    assert match, f"banner line {pattern!r} missing from:\n{output[-3000:]}"
    return match


def ping_through_broker(redis_url: str, queue: str, timeout_s: float = 60) -> None:
    """Publishes workers.ping as any client would and waits for a worker's pong."""
    key = f"launcher-test:pong:{secrets.token_hex(4)}"
    # The launcher's Redis keys carry the default prefix `sb`, the broker's included.
    client = Celery(broker=redis_url, broker_transport_options={"global_keyprefix": "sb:"})
    client.send_task("workers.ping", kwargs={"reply_key": key}, queue=queue)
    replies = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout_s
    while replies.get(key) != b"pong":
        assert time.monotonic() < deadline, f"no worker of queue {queue!r} answered within {timeout_s}s"
        time.sleep(0.2)


class ProcessTree:
    """Every process the launcher ever had below it, remembered even after it is orphaned."""

    def __init__(self, root_pid: int):
        self.root = psutil.Process(root_pid)
        self.seen: dict[int, psutil.Process] = {}

    def record(self) -> None:
        try:
            for child in self.root.children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def command_lines(self) -> list[str]:
        lines = []
        for child in self.survivors():
            with contextlib.suppress(psutil.NoSuchProcess):
                lines.append(" ".join(child.cmdline()))
        return lines

    def survivors(self) -> list[psutil.Process]:
        alive = []
        for child in self.seen.values():
            try:
                # is_running() compares start times, so a reused pid is not mistaken for ours.
                if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                    alive.append(child)
            except psutil.NoSuchProcess:
                pass
        return alive


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
    except httpx.TransportError:
        return False
    return True


def execution_status(var_dir: Path, execution_id: str) -> str | None:
    """Read straight from the launcher's SQLite file, as an operator's query would."""
    with sqlite3.connect(var_dir / "switchboard.sqlite3") as db:
        found = db.execute(
            "SELECT status FROM executions_app_execution WHERE id = ?", (execution_id.replace("-", ""),)
        ).fetchone()
    return found[0] if found else None


@pytest.mark.worker_process
@pytest.mark.timeout(300)
def test_make_run_serves_everything_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    web_port, flower_port = free_port(), free_port()
    var_dir, log_path = tmp_path / "var", tmp_path / "launcher.log"
    web = f"http://127.0.0.1:{web_port}"
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "config.launcher"],
            cwd=ROOT,
            env=launcher_env(var_dir, web_port, flower_port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives `make run`
        )
    tree = ProcessTree(launcher.pid)
    try:
        deadline = time.monotonic() + 90
        while True:
            tree.record()
            assert launcher.poll() is None, "the launcher exited:\n" + log_path.read_text()[-5000:]
            try:
                if httpx.get(f"{web}/api/docs", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "no 200 from /api/docs in 90s:\n" + log_path.read_text()[-5000:]
            time.sleep(0.5)

        output = log_path.read_text()
        admin_password = banner_value(output, r"Admin .*user 'admin' created, password (\S+)")[1]
        flower_user, flower_password = banner_value(output, r"Flower .*user (\S+), password (\S+)").groups()
        redis_url = banner_value(output, r"Redis\s+(redis://127\.0\.0\.1:\d+/0) \(embedded")[1]
        assert banner_value(output, r"Database\s+SQLite file (\S+)")[1] == str(var_dir / "switchboard.sqlite3")
        # No provider key in the environment: the emulator stands in, and the banner says so.
        banner_value(output, r"AI providers\s+emulated by the provider emulator at http://127\.0\.0\.1:\d+")
        # The demo is on by default, and the banner says it opened this server to HTTP nodes.
        banner_value(output, rf"Demo\s+on: .*127\.0\.0\.1:{web_port} added to SWITCHBOARD_HTTP_ALLOWED_HOSTS")

        # The generated SECRET_KEY is kept for the next run, readable by its owner only.
        assert stat.S_IMODE((var_dir / "secret_key").stat().st_mode) == 0o600

        # Flower refuses anyone without the credentials the banner printed.
        flower = f"http://127.0.0.1:{flower_port}/"
        wait_for(lambda: answers(flower), timeout=60)  # Flower may start after the web
        assert httpx.get(flower, timeout=10).status_code == 401
        assert httpx.get(flower, auth=("flower", "wrong"), timeout=10).status_code == 401
        assert httpx.get(flower, auth=(flower_user, flower_password), timeout=10).status_code == 200

        # The printed admin password logs in over plain http (secure cookies are off here:
        # a browser never sends Secure cookies back over http, and the CSRF check would fail).
        with httpx.Client(base_url=web, timeout=10) as browser:
            browser.get("/admin/login/")
            answer = browser.post(
                "/admin/login/?next=/admin/",
                data={
                    "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                    "username": "admin",
                    "password": admin_password,
                    "next": "/admin/",
                },
            )
            assert answer.status_code == 302, answer.text[:500]
            assert answer.headers["location"] == "/admin/"

        # Both kinds of worker consume from the embedded broker.
        ping_through_broker(redis_url, "default")
        ping_through_broker(redis_url, "ai")

        # The demo: user, three workflows, and one execution once the workers answer.
        demo_id = wait_for(
            lambda: (m := re.search(r"demo: Queued execution (\S+)", log_path.read_text())) and m[1], timeout=120
        )
        wait_for(lambda: execution_status(var_dir, demo_id) == "completed", timeout=60)

        tree.record()
        running = " | ".join(tree.command_lines())
        programs = ("redis-server", "provider_emulator", "gunicorn", "config worker", "config beat", "config flower")
        for program in programs:
            assert program in running, f"{program} is not running under the launcher"
    finally:
        tree.record()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()

    survivors = tree.command_lines()
    for process in tree.survivors():  # never leave them behind, even when the test fails
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    assert not survivors, "still running after Ctrl-C: " + " | ".join(survivors)


def test_the_demo_opens_this_server_to_http_nodes_only_when_it_is_on() -> None:
    on = {"SWITCHBOARD_HTTP_ALLOWED_HOSTS": "svc.internal:8080"}
    line = allow_demo_endpoint(8123, on)
    assert on["SWITCHBOARD_HTTP_ALLOWED_HOSTS"] == "svc.internal:8080,127.0.0.1:8123"
    assert on["SWITCHBOARD_DEMO_HTTP_URL"] == "http://127.0.0.1:8123/metrics"
    assert "127.0.0.1:8123" in line and "SWITCHBOARD_DEMO=0" in line
    for value in ("0", " 0 "):
        off = {"SWITCHBOARD_DEMO": value, "SWITCHBOARD_HTTP_ALLOWED_HOSTS": "svc.internal:8080"}
        line = allow_demo_endpoint(8123, off)
        assert off == {"SWITCHBOARD_DEMO": value, "SWITCHBOARD_HTTP_ALLOWED_HOSTS": "svc.internal:8080"}
        assert line.startswith("off")
