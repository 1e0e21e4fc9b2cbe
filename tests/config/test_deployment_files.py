"""The Procfile, docker-compose.yml and .env.example agree with each other and with the
settings. (No Docker engine runs here: the compose file is checked by parsing it.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from honcho.environ import parse_procfile

from development.embedded_redis import free_port
from development.launcher_banner import redact_url

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "ai-worker", "clock", "beat", "flower")


def procfile() -> dict[str, str]:
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_procfile_runs_the_process_layout() -> None:
    entries = procfile()
    assert list(entries) == list(APP_SERVICES)
    # ASGI: the event loop reads requests, a thread pool runs Django (config/asgi.py)
    assert "gunicorn config.asgi --worker-class asgi --workers 2 " in entries["web"]
    assert "celery -A config worker -Q default,nodes -c 2 " in entries["worker"]  # prefork, the default pool
    assert "--pool" not in entries["worker"]
    assert "celery -A config worker -Q ai --pool threads -c 16 " in entries["ai-worker"]
    assert "celery -A config beat " in entries["beat"]
    assert entries["clock"] == "exec python manage.py run_clock"


def test_flower_entry_refuses_to_start_without_credentials() -> None:
    env = {name: value for name, value in os.environ.items() if name != "FLOWER_BASIC_AUTH"}
    result = subprocess.run(
        ["sh", "-c", procfile()["flower"]], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr


def test_compose_names_every_service_of_the_layout() -> None:
    services = compose()["services"]
    assert {*APP_SERVICES, "redis", "postgres"} <= set(services)


def test_compose_app_services_run_the_procfile_lines_on_one_image() -> None:
    services = compose()["services"]
    for name, line in procfile().items():
        service = services[name]
        # `$$` is compose's escape for a `$` left to the container's shell.
        assert [part.replace("$$", "$") for part in service["command"]] == [line], name
        assert service["entrypoint"] == ["sh", "-c"], name
        assert (service["build"], service["image"]) == (".", "switchboard"), name
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0", name
        assert service["environment"]["DATABASE_URL"].startswith("postgres://"), name


def test_compose_workers_scale_out() -> None:
    services = compose()["services"]
    for name in ("worker", "ai-worker"):
        assert "container_name" not in services[name]  # `--scale worker=N` needs no fixed name
        assert "ports" not in services[name]


def test_compose_redis_never_drops_a_queued_task() -> None:
    command = " ".join(compose()["services"]["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_compose_migrates_before_the_app_starts() -> None:
    services = compose()["services"]
    assert "manage.py migrate" in services["migrate"]["command"][0]
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


# Runs config/settings.py (and the settings modules it imports) in a fresh interpreter with
# os.environ recording every name read.
SETTINGS_ENV_NAMES = """
import json, os, runpy

class Recording(dict):
    read = set()
    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)
    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)
    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

import config  # the package is Celery's app, which reads variables of its own; not settings
os.environ = Recording(os.environ)
runpy.run_path("config/settings.py")
print(json.dumps(sorted(os.environ.read)))
"""


def test_env_example_documents_every_variable_the_settings_read(tmp_path: Path) -> None:
    # Neither DEBUG nor a test run: the production branches read their variables too.
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "x", "SWITCHBOARD_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_ENV_NAMES], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    names_read = set(json.loads(result.stdout))
    documented = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line.lstrip("# ").split("=", 1)[0].isupper()
    }
    assert "SECRET_KEY" in names_read  # the recording works
    assert names_read - documented == set()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://switchboard:s3cret@db:5432/app", "postgres://switchboard:***@db:5432/app"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_banner_urls_never_show_a_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.slow
def test_entries_give_up_with_a_clear_message_when_redis_never_answers() -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"  # nothing listens there
    env = {**os.environ, "REDIS_URL": url, "SWITCHBOARD_REDIS_WAIT_S": "1"}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CACHE_REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "development.wait_for_redis"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "did not answer within 1s" in result.stderr
    assert "s3cret" not in result.stderr
