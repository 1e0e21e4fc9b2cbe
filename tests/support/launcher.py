"""What the launcher test uses: the environment of a fresh `make run`, reading its banner,
and the process tree it must leave behind."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import redis
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from development.launcher_banner import PROVIDER_KEYS

ROOT = Path(__file__).resolve().parents[2]


# What the test session sets for itself; a real `make run` sees none of it.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_REDIS_URL", "SECRET_KEY", "DEBUG")


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


def start_launcher(var_dir: Path, log_path: Path, web_port: int, flower_port: int) -> subprocess.Popen[bytes]:
    """`make run`'s launcher, its output (stdout and stderr) in log_path."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "development.launcher"],
            cwd=ROOT,
            env=launcher_env(var_dir, web_port, flower_port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives `make run`
        )


def final_banner(output: str) -> str | None:
    """The banner printed again once everything is ready, from the line saying so to the
    blank line after it; None while it is not printed."""
    match = re.search(r"^Switchboard is ready after .*\n\nSwitchboard \(make run\).*?\n\n", output, re.M | re.S)
    return match[0] if match else None


def banner_urls(output: str) -> set[str]:
    """Every http URL the banner prints (from its title line to the blank line after it)."""
    start = output.index("Switchboard (make run)")
    block = output[start : output.index("\n\n", start)]
    return {url.rstrip(".,)") for url in re.findall(r"https?://\S+", block)}


def metric_sample(metrics_text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def check_account_tour(web: str) -> None:
    """README's quickstart: register, log in, make an API key, and be known by that key."""
    with httpx.Client(base_url=web, timeout=20) as api:
        username, password = f"tour{secrets.token_hex(3)}", secrets.token_urlsafe(16)
        registered = api.post(
            "/api/auth/register", json={"username": username, "email": f"{username}@example.com", "password": password}
        )
        assert registered.status_code == 201, registered.text
        login = api.post("/api/auth/login", json={"username": username, "password": password})
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access']}"}
        created = api.post("/api/auth/api-keys", json={"name": "launcher test"}, headers=bearer)
        assert created.status_code == 201, created.text
        me = api.get("/api/auth/me", headers={"Authorization": f"Api-Key {created.json()['key']}"})
        assert me.status_code == 200, me.text
        assert me.json()["username"] == username
        assert api.get("/api/auth/me", headers={"Authorization": "Api-Key sb_wrong.key"}).status_code == 401


def ping_through_broker(redis_url: str, queue: str, timeout_s: float = 60) -> None:
    """Publishes workers.ping as any client would and waits for a worker's pong."""
    key = f"launcher-test:pong:{secrets.token_hex(4)}"
    # The launcher's Redis keys carry the default prefix `sb`, the broker's included. Not
    # the process's current app: the engine publishes through the current app (config's).
    client = Celery(broker=redis_url, broker_transport_options={"global_keyprefix": "sb:"}, set_as_current=False)
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


def node_run_status(var_dir: Path, execution_id: str, node_id: str) -> str | None:
    with sqlite3.connect(var_dir / "switchboard.sqlite3") as db:
        found = db.execute(
            "SELECT status FROM executions_app_noderun WHERE execution_id = ? AND node_id = ?",
            (execution_id.replace("-", ""), node_id),
        ).fetchone()
    return found[0] if found else None


def login(web: str, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a JWT for this user."""
    answer = httpx.post(f"{web}/api/auth/login", json={"username": username, "password": password}, timeout=20)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access']}"}


def start_execution(web: str, headers: dict[str, str], name: str, definition: dict) -> str:
    """A new workflow with this definition and one execution of it; the execution's id."""
    with httpx.Client(base_url=web, headers=headers, timeout=20) as api:
        workflow = api.post("/api/workflows", json={"name": name, "definition": definition})
        assert workflow.status_code == 201, workflow.text
        execution = api.post("/api/executions", json={"workflow_id": workflow.json()["id"], "inputs": {}})
    assert execution.status_code in (200, 201, 202), execution.text
    return execution.json()["id"]
