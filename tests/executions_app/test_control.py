"""Cancel, node retries and timeouts, live events, retention (retry of an execution:
test_retry.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from executions_app.engine.sweeper import prune_old_executions
from executions_app.models import Execution, ExecutionLog, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id, read_events, status_of
from tests.support.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker_thread]


def test_cancel_mid_run_lets_the_running_node_finish_and_starts_nothing_new(
    celery_worker, make_workflow, run, auth_client
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
    wait_for(lambda: nodes_by_id(status_of(auth_client, execution_id))["pause"]["status"] == "running")
    response = auth_client.post(f"/api/executions/{execution_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    wait_for(lambda: nodes_by_id(status_of(auth_client, execution_id))["pause"]["status"] == "completed")
    execution = status_of(auth_client, execution_id)
    assert execution["status"] == "canceled"
    runs = nodes_by_id(execution)
    assert runs["after"]["status"] == runs["result"]["status"] == "canceled"
    assert runs["after"]["attempts"] == 0
    assert auth_client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"  # idempotent


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


@pytest.mark.server
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
    from tests.support.factories import UserFactory

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
    days = settings.SWITCHBOARD.execution_retention_days
    long_ago = timezone.now() - timedelta(days=days, minutes=1)
    Execution.objects.filter(id=old_id).update(created_at=long_ago, finished_at=long_ago)
    # Created as long ago but finished recently: kept (retention counts from the end).
    Execution.objects.filter(id=new_id).update(created_at=long_ago)
    assert prune_old_executions() == 1
    assert not Execution.objects.filter(id=old_id).exists()
    assert not NodeRun.objects.filter(execution_id=old_id).exists()
    assert not ExecutionLog.objects.filter(execution_id=old_id).exists()
    assert Execution.objects.filter(id=new_id).exists()
