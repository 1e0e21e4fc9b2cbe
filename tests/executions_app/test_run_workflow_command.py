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
from tests.support.factories import UserFactory
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


@pytest.fixture
def typed(make_workflow) -> str:
    return make_workflow(
        [
            input_node(text={"type": "string", "required": True}, n={"type": "integer"}),
            node("result", "OUTPUT", {"value": {"text": "{{ inputs.text }}", "n": "{{ inputs.n }}"}}),
        ],
        [edge("start", "result")],
    )


@pytest.mark.worker_thread
def test_the_admin_runs_another_users_workflow_as_its_owner(celery_worker, echo, user) -> None:
    """The README's line: the admin (the default, a superuser) names a workflow by id."""
    UserFactory(username="admin", is_superuser=True, is_staff=True)

    printed = run_command(echo, "--input", "text=a queue")

    assert printed.splitlines()[0] == f"running as {user.username}, the workflow's owner"
    assert json.loads(printed[printed.index("{") :]) == {"result": "a queue"}
    assert Execution.objects.get(workflow_id=echo).owner == user


def test_a_superuser_named_with_user_runs_as_the_owner_too_and_others_do_not(echo, user) -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)
    out = io.StringIO()
    with pytest.raises(CommandError, match="still queued"):  # no worker here: it stays queued
        call_command(
            "run_workflow", echo, "--user", admin.username, "--input", "text=hi", "--timeout", "0.1", stdout=out
        )
    assert out.getvalue().splitlines()[0] == f"running as {user.username}, the workflow's owner"
    assert Execution.objects.get(workflow_id=echo).owner == user

    someone = UserFactory()
    with pytest.raises(CommandError) as caught:
        run_command(echo, "--user", someone.username, "--input", "text=hi")
    assert f"not_found: Workflow not found. (among the workflows of {someone.username!r}" in str(caught.value)


def test_a_value_of_the_wrong_type_on_input_says_how_to_pass_it(typed, user) -> None:
    with pytest.raises(CommandError) as caught:
        run_command(typed, "--user", user.username, "--input", "text=3", "--input", "n=three")
    said = str(caught.value)
    assert said.startswith("validation_error: ")
    assert "--input text=3 was read as JSON; for the text, quote it as JSON: --input 'text=\"3\"'" in said
    assert "--input-json 'text=\"3\"'" in said
    assert "--input n=three is not JSON, so it was read as text; --input-json n=<json>" in said
    assert Execution.objects.count() == 0


def test_input_json_takes_json_and_refuses_anything_else(typed, user) -> None:
    with pytest.raises(CommandError, match=r"--input-json n=\.\.\.: the value is not JSON"):
        run_command(typed, "--user", user.username, "--input", "text=a", "--input-json", "n=three")
    with pytest.raises(CommandError, match="input 'text' is given twice"):
        run_command(typed, "--user", user.username, "--input", "text=a", "--input-json", 'text="b"')
    out = io.StringIO()
    with pytest.raises(CommandError, match="still queued"):  # no worker here: it stays queued
        call_command(
            "run_workflow",
            typed,
            "--user",
            user.username,
            "--input-json",
            'text="3"',
            "--input-json",
            "n=3",
            "--timeout",
            "0.1",
            stdout=out,
        )
    assert Execution.objects.get(workflow_id=typed).inputs == {"text": "3", "n": 3}


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
