"""Cancel, retry from failure, node retries and timeouts, live events, retention."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from executions_app.engine.sweeper import prune_old_executions
from executions_app.models import Execution, ExecutionLog, NodeRun
from executions_app.selectors import execution_status
from tests.executions_app.conftest import edge, input_node, node, nodes_by_id
from tests.workers_support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(client, execution_id: str) -> dict:
    return client.get(f"/api/executions/{execution_id}").json()


def test_cancel_mid_run_lets_the_running_node_finish_and_starts_nothing_new(
    celery_worker, make_workflow, run, client
) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("pause", "WAIT", {"seconds": 1}),
            node("after", "TRANSFORM", {"value": "x"}),
            node("result", "OUTPUT", {"value": "{{ nodes.after.output }}"}),
        ],
        [edge("start", "pause"), edge("pause", "after"), edge("after", "result")],
    )
    execution_id = run(workflow_id, wait=None).json()["id"]
    wait_for(lambda: nodes_by_id(status_of(client, execution_id))["pause"]["status"] == "running")
    response = client.post(f"/api/executions/{execution_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    wait_for(lambda: nodes_by_id(status_of(client, execution_id))["pause"]["status"] == "completed")
    execution = status_of(client, execution_id)
    assert execution["status"] == "canceled"
    runs = nodes_by_id(execution)
    assert runs["after"]["status"] == runs["result"]["status"] == "canceled"
    assert runs["after"]["attempts"] == 0
    assert client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"  # idempotent


def test_retry_from_failure_reuses_completed_outputs_and_runs_the_rest(
    celery_worker, make_workflow, run, client
) -> None:
    workflow_id = make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("stamp", "TRANSFORM", {"value": "{{ execution.id }}"}),
            node("check", "CONDITION", {"expression": "inputs.n > 0"}),
            node("skipped", "TRANSFORM", {"value": "never"}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / (inputs.n - 1) }}"}),
            node(
                "result", "OUTPUT", {"value": {"stamp": "{{ nodes.stamp.output }}", "q": "{{ nodes.divide.output }}"}}
            ),
        ],
        [
            edge("start", "stamp"),
            edge("stamp", "check"),
            edge("check", "skipped", "false"),
            edge("check", "divide", "true"),
            edge("divide", "result"),
        ],
    )
    failed = run(workflow_id, {"n": 1}).json()
    assert failed["status"] == "failed"
    # The failure was in the data, so the retry fails the same way but reuses the rest.
    retried = client.post(f"/api/executions/{failed['id']}/retry").json()
    wait_for(lambda: status_of(client, retried["id"])["status"] in ("completed", "failed"))
    retried = status_of(client, retried["id"])
    original_runs, runs = nodes_by_id(failed), nodes_by_id(retried)
    for reused in ("start", "stamp", "check"):
        assert runs[reused]["reused_from"] is not None
        assert runs[reused]["output"] == original_runs[reused]["output"]
        assert runs[reused]["attempts"] == 0  # not run again
    assert runs["skipped"]["status"] == "skipped"
    assert runs["divide"]["reused_from"] is None
    assert runs["divide"]["attempts"] == 1
    assert retried["status"] == "failed"
    assert client.post(f"/api/executions/{retried['id']}/retry").status_code == 201
    ok = run(workflow_id, {"n": 3}).json()
    conflict = client.post(f"/api/executions/{ok['id']}/retry")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "not_retryable"


def test_retry_of_a_canceled_execution_finishes_it(celery_worker, make_workflow, run, client) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("first", "TRANSFORM", {"value": "{{ execution.id }}"}),
            node("pause", "WAIT", {"seconds": 0.5}),
            node("result", "OUTPUT", {"value": "{{ nodes.first.output }}"}),
        ],
        [edge("start", "first"), edge("first", "pause"), edge("pause", "result")],
    )
    execution_id = run(workflow_id, wait=None).json()["id"]
    wait_for(lambda: nodes_by_id(status_of(client, execution_id))["pause"]["status"] == "running")
    client.post(f"/api/executions/{execution_id}/cancel")
    # The running node finishes after the cancel; its result is kept and reused.
    wait_for(lambda: nodes_by_id(status_of(client, execution_id))["pause"]["status"] == "completed")
    assert nodes_by_id(status_of(client, execution_id))["result"]["status"] == "canceled"
    retried = client.post(f"/api/executions/{execution_id}/retry").json()
    wait_for(lambda: status_of(client, retried["id"])["status"] == "completed")
    done = status_of(client, retried["id"])
    # The first node's output is reused: it still names the original execution.
    assert done["outputs"]["result"] == execution_id
    assert nodes_by_id(done)["pause"]["reused_from"] is not None


def test_a_retry_that_reuses_every_node_is_completed_at_once_and_says_so_in_order(
    celery_worker, make_workflow, run, client, user
) -> None:
    """Canceled while its last node ran, which then completed: every node is reusable."""
    workflow_id = make_workflow(
        [
            input_node(),
            node("pause", "WAIT", {"seconds": 0.5}),
            node("result", "OUTPUT", {"value": "{{ execution.id }}"}),
        ],
        [edge("start", "result"), edge("result", "pause")],
    )
    execution_id = run(workflow_id, wait=None).json()["id"]
    wait_for(lambda: nodes_by_id(status_of(client, execution_id))["pause"]["status"] == "running")
    client.post(f"/api/executions/{execution_id}/cancel")
    wait_for(lambda: nodes_by_id(status_of(client, execution_id))["pause"]["status"] == "completed")

    retried = client.post(f"/api/executions/{execution_id}/retry").json()

    assert retried["status"] == "completed"
    assert retried["outputs"]["result"] == execution_id
    assert execution_status(retried["id"]) == "completed"  # what `wait` reads
    browser = Client()
    browser.force_login(user)
    changes = [e["status"] for _, e in read_events(browser, retried["id"]) if e["kind"] == "execution"]
    assert changes == ["running", "completed"]


def test_a_second_retry_while_the_first_runs_is_a_409_naming_it(make_workflow, run, client) -> None:
    """A double click on Retry: every node not reused (paid AI calls too) would run twice.
    No worker runs here, so the first retry stays queued."""
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    execution_id = run(workflow_id, wait=None).json()["id"]
    client.post(f"/api/executions/{execution_id}/cancel")

    first = client.post(f"/api/executions/{execution_id}/retry")
    second = client.post(f"/api/executions/{execution_id}/retry")

    assert first.status_code == 201
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["details"]["execution_id"]) == ("retry_in_progress", first.json()["id"])
    client.post(f"/api/executions/{first.json()['id']}/cancel")
    assert client.post(f"/api/executions/{execution_id}/retry").status_code == 201  # once it ended, again


def test_retry_is_refused_like_a_new_execution_for_an_inactive_or_archived_workflow(make_workflow, run, client) -> None:
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    execution_id = run(workflow_id, wait=None).json()["id"]  # no worker: it stays queued
    assert client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"

    client.patch(f"/api/workflows/{workflow_id}", {"is_active": False}, format="json")
    inactive = client.post(f"/api/executions/{execution_id}/retry")
    assert inactive.status_code == 409
    assert inactive.json()["error"]["code"] == "workflow_inactive"

    client.patch(f"/api/workflows/{workflow_id}", {"is_active": True}, format="json")
    assert client.delete(f"/api/workflows/{workflow_id}").status_code == 204
    archived = client.post(f"/api/executions/{execution_id}/retry")
    assert archived.status_code == 404
    assert archived.json()["error"]["code"] == "not_found"
    assert Execution.objects.filter(retried_from_id=execution_id).count() == 0


def test_a_node_past_its_timeout_fails_with_a_clear_error(celery_worker, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [input_node(), node("pause", "WAIT", {"seconds": 30}, timeout_s=3), node("result", "OUTPUT", {"value": 1})],
        [edge("start", "pause"), edge("pause", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "failed"
    pause = nodes_by_id(execution)["pause"]
    assert pause["error"]["code"] == "node_timeout"
    assert "raise its timeout_s" in pause["error"]["message"]
    assert pause["duration_ms"] < 2000  # certain to fail: said at once, not after sleeping out its 3 s


def test_a_failing_provider_is_retried_with_backoff_then_succeeds(
    celery_worker, ai_settings, emulator, make_workflow, run
) -> None:
    emulator.fault(provider="groq", status=503, times=1)
    workflow_id = make_workflow(
        [
            input_node(),
            node(
                "decide",
                "AI_PROCESSOR",
                {"task_type": "quick_decision", "prompt": "yes or no?", "providers": ["groq/llama-3.1-8b-instant"]},
                retry={"max_attempts": 3, "backoff_s": 0.1, "max_backoff_s": 0.2},
            ),
            node("result", "OUTPUT", {"value": "{{ nodes.decide.output.provider }}"}),
        ],
        [edge("start", "decide"), edge("decide", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    decide = nodes_by_id(execution)["decide"]
    assert decide["attempts"] == 2
    assert decide["attempt_log"][0]["n"] == 1
    assert decide["attempt_log"][0]["error_code"]
    assert decide["attempt_log"][-1]["n"] == 2
    assert "error_code" not in decide["attempt_log"][-1]
    assert execution["outputs"]["result"] == "groq"


def read_events(client: Client, execution_id: str, last_event_id: str | None = None) -> list[tuple[str, dict]]:
    headers = {"HTTP_LAST_EVENT_ID": last_event_id} if last_event_id else {}
    response = client.get(f"/api/executions/{execution_id}/events", HTTP_ACCEPT="text/event-stream", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    body = b"".join(response.streaming_content).decode()
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append((fields["id"], json.loads(fields["data"])))
    return found


def test_events_stream_every_status_change_in_order(celery_worker, make_workflow, run, user) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("check", "CONDITION", {"expression": "true"}),
            node("yes", "WAIT", {"seconds": 0.2}),
            node("no", "TRANSFORM", {"value": 1}),
            node("result", "OUTPUT", {"value": "{{ nodes.yes.output }}"}),
        ],
        [
            edge("start", "check"),
            edge("check", "yes", "true"),
            edge("check", "no", "false"),
            edge("yes", "result"),
            edge("no", "result"),
        ],
    )
    client = Client()
    client.force_login(user)
    execution_id = run(workflow_id, wait=None).json()["id"]
    streamed: list[tuple[str, dict]] = []
    reader = threading.Thread(target=lambda: streamed.extend(read_events(client, execution_id)))
    reader.start()
    reader.join(timeout=30)
    changes = [(e["kind"], e.get("node_id"), e["status"]) for _, e in streamed]
    assert changes == [
        ("execution", None, "queued"),
        ("execution", None, "running"),
        ("node", "start", "running"),
        ("node", "start", "completed"),
        ("node", "check", "running"),
        ("node", "check", "completed"),
        ("node", "no", "skipped"),
        ("node", "yes", "running"),
        ("node", "yes", "completed"),
        ("node", "result", "running"),
        ("node", "result", "completed"),
        ("execution", None, "completed"),
    ]
    # Resuming after the fourth event replays only what came after it.
    resumed = read_events(client, execution_id, last_event_id=streamed[3][0])
    assert [e for _, e in resumed] == [e for _, e in streamed[4:]]


def test_events_of_another_users_execution_are_404(celery_worker, make_workflow, run) -> None:
    from tests.accounts_app.factories import UserFactory

    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    execution_id = run(workflow_id).json()["id"]
    other = Client()
    other.force_login(UserFactory())
    assert other.get(f"/api/executions/{execution_id}/events").status_code == 404


def test_retention_prunes_old_executions_with_their_runs_and_logs(celery_worker, make_workflow, run, settings) -> None:
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    old_id = run(workflow_id).json()["id"]
    new_id = run(workflow_id).json()["id"]
    ExecutionLog.objects.create(execution_id=old_id, message="old")
    days = settings.SWITCHBOARD["EXECUTION_RETENTION_DAYS"]
    Execution.objects.filter(id=old_id).update(created_at=timezone.now() - timedelta(days=days, minutes=1))
    assert prune_old_executions() == 1
    assert not Execution.objects.filter(id=old_id).exists()
    assert not NodeRun.objects.filter(execution_id=old_id).exists()
    assert not ExecutionLog.objects.filter(execution_id=old_id).exists()
    assert Execution.objects.filter(id=new_id).exists()
