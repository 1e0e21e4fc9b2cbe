"""Redis restarted mid-run: queued work survives (AOF), lost publishes are swept."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from development import embedded_redis
from executions_app.models import Execution, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.workers import (
    ROOT,
    WorkerProcess,
    wait_for,
    worker_process,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker_process, pytest.mark.server]


def test_execution_completes_across_a_redis_restart(make_workflow, user) -> None:
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
    cli = None
    try:
        with worker_process(concurrency=1, extra_env=env, ping=False) as worker:
            beat.start()
            cli = subprocess.Popen(
                [sys.executable, "manage.py", "run_workflow", workflow_id, "--user", user.username, "--timeout", "90"],
                cwd=ROOT,
                env={**worker.child_env(), **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            execution = wait_for(lambda: Execution.objects.filter(workflow_id=workflow_id).first(), timeout=30)
            wait_for(
                lambda: NodeRun.objects.filter(execution=execution, node_id="first", status="running").exists(),
                timeout=30,
            )
            own_redis.send_signal(signal.SIGKILL)  # no shutdown save: only the append-only file survives
            own_redis.wait()
            time.sleep(1)
            own_redis = embedded_redis.start(port, data_dir, persist=True)
            output, _ = cli.communicate(timeout=90)
            assert cli.returncode == 0, output + worker.log()[-3000:] + beat.log()[-2000:]
    finally:
        beat.stop()
        if cli and cli.poll() is None:
            cli.kill()
        own_redis.kill()
    execution.refresh_from_db()
    assert execution.status == "completed"
    assert execution.outputs == {"result": 1.5}
    assert "completed" in output
    runs = {r.node_id: r for r in NodeRun.objects.filter(execution=execution)}
    assert all(r.status == "completed" for r in runs.values())
    assert all(r.attempts == 1 for r in runs.values()), {n: r.attempts for n, r in runs.items()}
