"""`manage.py run_workflow`: a run through real workers, and clear errors, never a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from development.embedded_redis import free_port
from executions_app.models import Execution
from tests.support.definitions import edge, input_node, node
from tests.support.workers import ROOT, session_database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def echo(make_workflow) -> str:
    return make_workflow(
        [
            input_node(text={"type": "string", "required": True}),
            node("result", "OUTPUT", {"value": "{{ inputs.text }}"}),
        ],
        [edge("start", "result")],
    )


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("run_workflow", *args, stdout=out)
    return out.getvalue()


@pytest.mark.worker_thread
def test_a_run_shows_each_node_and_the_outputs(celery_worker, echo, user) -> None:
    printed = run_command(echo, "--user", user.username, "--input", "text=hello")
    assert "start" in printed and "result" in printed
    assert "completed in" in printed
    assert json.loads(printed[printed.index("{") :]) == {"result": "hello"}


def test_mistakes_are_one_clear_line(echo, user, tmp_path) -> None:
    binary = tmp_path / "export.json"
    binary.write_bytes(b"\xff\xfe\x00binary")
    cases = [
        ((str(binary), "--user", user.username), "is not a readable JSON file"),
        ((echo, "--user", user.username), "validation_error"),  # the required input is missing
        (("00000000-0000-0000-0000-000000000000", "--user", user.username), "not_found: Workflow not found."),
        ((echo, "--user", user.username, "--timeout", "nan"), "not a positive number of seconds"),
    ]
    for args, says in cases:
        with pytest.raises(CommandError) as caught:
            run_command(*args)
        assert says in str(caught.value), str(caught.value)
        assert not str(caught.value).endswith("null")


@pytest.mark.slow
def test_with_the_broker_unreachable_the_execution_is_saved_for_the_sweeper(echo, user) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": session_database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    command = [sys.executable, "manage.py", "run_workflow", echo, "--user", user.username, "--input", "text=hi"]

    done = subprocess.run([*command, "--timeout", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert "is saved, but its first nodes could not be queued" in done.stderr
    assert "still queued after 1s" in done.stderr
    assert Execution.objects.get(workflow_id=echo).status == "queued"  # the sweeper's to publish
