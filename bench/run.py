"""`make bench`: engine figures on PostgreSQL + Redis, each beside its floor measured in
the same run (bench/NOTES.md). Writes bench/out/latest.json and prints a Markdown table.
`python -m bench.run --only sustained` (`make bench-load`) measures only the sustained
submission, in about three minutes, and rewrites only its section of bench/RESULTS.md;
`--only triggers` does the same for the webhook and schedule figures, `--only suspension`
for the waiting nodes' (timer lateness, MAP fan-out).

Uses DATABASE_URL / REDIS_URL when set, else the machine's PostgreSQL and Redis on
127.0.0.1. A database and a Redis key prefix of its own, dropped at the end."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ["SWITCHBOARD_TEST_RUN_ID"] = "bench" + secrets.token_hex(3)
os.environ["SWITCHBOARD_TASK_EVENTS"] = "0"  # no Flower, no task events
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Every provider without a key answers from the emulator, in this process and the workers.
from development.embedded_redis import free_port

EMULATOR_PORT = free_port()
os.environ["SWITCHBOARD_EMULATOR_URL"] = f"http://127.0.0.1:{EMULATOR_PORT}"
for _key in ("GEMINI_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "OPENROUTER_API_KEY", "OPENAI_COMPATIBLE_API_KEY"):
    os.environ.pop(_key, None)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django_redis import get_redis_connection  # noqa: E402

from bench import (  # noqa: E402
    ai_scenarios,
    report,
    scenarios,
    suspension_report,
    suspension_scenarios,
    sustained,
    trigger_scenarios,
)
from tests.support.workers import WorkerProcess, worker_process  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def group_of(worker: WorkerProcess) -> int:
    assert worker.process is not None, "the worker has not started"
    return worker.process.pid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--only", choices=["sustained", "triggers", "suspension"], help="measure only these figures")
    only = parser.parse_args(argv).only
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    results: dict[str, Any] = {"database": connection.vendor, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    # The emulator runs in a process of its own, as under `make run`: sharing this
    # process's GIL would slow the direct SDK calls that serve as the floor.
    emulator = subprocess.Popen(
        [sys.executable, "manage.py", "provider_emulator", "--port", str(EMULATOR_PORT)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
    )
    try:
        user = scenarios.bench_user()
        # The Procfile's two workers: prefork for the engine's queues, and for the `ai`
        # queue the threads pool that I/O-bound provider calls run on (docs/concepts/ai-providers.md).
        with (
            worker_process(
                queues="default,nodes", concurrency=2, pool="prefork", include="bench.design_floor"
            ) as engine_worker,
            worker_process(queues="ai", concurrency=16, pool="threads") as ai_worker,
        ):
            if only is None:
                results.update(scenarios.run_all(user, summary))
                results["ai"] = ai_scenarios.run_all(
                    user, os.environ["SWITCHBOARD_EMULATOR_URL"], scenarios.timed_execution, summary
                )
                results["triggers"] = trigger_scenarios.run_all(user, user.bench_password, summary)
                results["suspension"] = suspension_scenarios.run_all(user, summary)
            if only == "triggers":
                results["triggers"] = trigger_scenarios.run_all(user, user.bench_password, summary)
            elif only == "suspension":
                results["suspension"] = suspension_scenarios.run_all(user, summary)
            else:
                # Last: it leaves thousands of executions behind. Each worker runs in a
                # session of its own, so its process id is its group's.
                worker_groups = {
                    "celery worker (default, nodes)": group_of(engine_worker),
                    "celery worker (ai)": group_of(ai_worker),
                }
                results["sustained"] = sustained.run(user, user.bench_password, worker_groups, summary)
    finally:
        emulator.terminate()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        redis = get_redis_connection("default")
        from django.conf import settings

        for key in redis.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000):
            redis.delete(key)
    OUT.mkdir(exist_ok=True)
    if only:
        (OUT / f"{only}.json").write_text(json.dumps(results, indent=2))
        if only == "triggers":
            report.write_triggers(results)
        elif only == "suspension":
            suspension_report.write_suspension(results)
        else:
            report.write_sustained(results)
    else:
        (OUT / "latest.json").write_text(json.dumps(results, indent=2))
        report.write(results)
        suspension_report.write_suspension(results)
    print(json.dumps(results, indent=2))
    print(f"(test database {test_name} dropped)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
