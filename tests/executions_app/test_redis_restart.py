"""Redis restarted mid-run: queued work survives (AOF), lost publishes are swept, and
work submitted after the restart runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis

from development import embedded_redis
from executions_app.models import Execution, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.workers import (
    ROOT,
    WorkerProcess,
    session_database_url,
    wait_for,
    worker_process,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker_process, pytest.mark.server]


def run_in_background(workflow_id: str, username: str, env: dict[str, str]) -> subprocess.Popen:
    """`manage.py run_workflow` on the test's own Redis: it submits one execution and
    follows it to its end (exit 0 only if it completed)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_workflow", workflow_id, "--user", username, "--timeout", "90"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_executions_submitted_before_and_after_a_redis_restart_complete(make_workflow, user, settings) -> None:
    """Kill point: SIGKILL of Redis (append-only file on) while one execution runs its
    first WAIT and the other's next message waits in the queue (one worker slot); a third
    execution is submitted once Redis is back. All three complete, every node run once."""
    workflow_id = make_workflow(
        [
            input_node(),
            node("first", "WAIT", {"seconds": 1.5}),
            node("middle", "TRANSFORM", {"value": "{{ nodes.first.output.waited_s }}"}),
            node("second", "WAIT", {"seconds": 1}),
            node("result", "OUTPUT", {"value": "{{ nodes.middle.output }}"}),
        ],
        [edge("start", "first"), edge("first", "middle"), edge("middle", "second"), edge("second", "result")],
    )
    port, data_dir = embedded_redis.free_port(), Path(tempfile.mkdtemp(prefix="sbredis"))
    own_redis = embedded_redis.start(port, data_dir, persist=True)
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "SWITCHBOARD_SWEEP_STALE_READY_S": "2"}
    schedule = data_dir / "beat-schedule"
    beat = WorkerProcess("", 0, "", env, [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(schedule)])
    queue, queue_key = redis.Redis(port=port), f"{settings.REDIS_KEY_PREFIX}:nodes"
    cli_env = {**os.environ, "DATABASE_URL": session_database_url(), **env}
    # Two executions submitted before any worker runs: both roots wait in the queue.
    clis = [run_in_background(workflow_id, user.username, cli_env) for _ in range(2)]
    try:
        wait_for(lambda: queue.llen(queue_key) == 2, timeout=60)
        with worker_process(concurrency=1, extra_env=env, ping=False) as worker:
            beat.start()
            # One slot: while it runs one execution's first WAIT, the other's next node is
            # a message only Redis holds.
            wait_for(
                lambda: NodeRun.objects.filter(
                    execution__workflow_id=workflow_id, node_id="first", status="running"
                ).exists(),
                timeout=30,
            )
            assert queue.llen(queue_key) >= 1  # beat may have re-published a stale root beside it
            own_redis.send_signal(signal.SIGKILL)  # no shutdown save: only the append-only file survives
            own_redis.wait()
            time.sleep(1)
            own_redis = embedded_redis.start(port, data_dir, persist=True)
            clis.append(run_in_background(workflow_id, user.username, cli_env))
            outputs = [cli.communicate(timeout=90)[0] for cli in clis]
            for cli, output in zip(clis, outputs, strict=True):
                assert cli.returncode == 0, output + worker.log()[-3000:] + beat.log()[-2000:]
    finally:
        beat.stop()
        for cli in clis:
            if cli.poll() is None:
                cli.kill()
        own_redis.kill()
    executions = list(Execution.objects.filter(workflow_id=workflow_id))
    assert len(executions) == 3  # two before the restart, one after
    for execution in executions:
        assert execution.status == "completed", execution.error
        assert execution.outputs == {"result": 1.5}
        runs = {r.node_id: r for r in NodeRun.objects.filter(execution=execution)}
        assert all(r.status == "completed" for r in runs.values())
        assert all(r.attempts == 1 for r in runs.values()), {n: r.attempts for n, r in runs.items()}
    assert all("completed" in output for output in outputs)
