"""An empty variable (`CELERY_BROKER_URL=` left in a .env) means the default, as unset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EMPTY = ["CELERY_BROKER_URL", "CACHE_REDIS_URL", "REDIS_URL", "ALLOWED_HOSTS", "LOG_LEVEL", "GEMINI_MODEL"]


def test_empty_variables_take_the_defaults() -> None:
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_BROKER_URL, s.CACHE_REDIS_URL, s.ALLOWED_HOSTS, s.LOGGING['root']['level'], "
        "s.AI_PROVIDERS['ROUTES']['content_generation'][0]]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_TEST")}
    env.update({name: "" for name in EMPTY}, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    broker, cache, hosts, level, route = json.loads(done.stdout.strip().splitlines()[-1])
    assert broker == cache == "redis://127.0.0.1:6379/0"
    assert "localhost" in hosts and level == "INFO" and route == "gemini/gemini-2.5-flash"
