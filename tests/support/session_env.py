"""Loaded with `-p` before Django is set up: gives this test session its own id (database
names, Redis key prefix) and, with no REDIS_URL, an embedded Redis of its own."""

from __future__ import annotations

import atexit
import os
import secrets
import tempfile
from pathlib import Path

from development import embedded_redis

os.environ.setdefault("SWITCHBOARD_TEST_RUN_ID", secrets.token_hex(4))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if not os.environ.get("REDIS_URL"):
    _port = embedded_redis.free_port()
    _process = embedded_redis.start(_port, Path(tempfile.mkdtemp(prefix="sbredis")), persist=False)
    atexit.register(_process.kill)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{_port}/0"
    os.environ["SWITCHBOARD_EMBEDDED_REDIS"] = "1"
