"""An execution's log: its start, each node's start, failed attempts and end, and its end,
read from the rows when the log is read, merged in time order with the stored lines;
filtered by level, node and text, paginated, and shown in the admin."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from executions_app.log_lines import log_lines
from executions_app.models import Execution, ExecutionLog, NodeRun
from tests.support.definitions import edge, input_node, node
from tests.support.executions import queued_execution
from tests.support.factories import UserFactory
from workflows_app.models import WorkflowVersion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing_workflow(make_workflow) -> str:
    return make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("stamp", "TRANSFORM", {"value": "{{ inputs.n }}"}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / (inputs.n - 1) }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.divide.output }}"}),
        ],
        [edge("start", "stamp"), edge("stamp", "divide"), edge("divide", "result")],
    )


def logs(client, execution_id: str, **query) -> dict:
    response = client.get(f"/api/executions/{execution_id}/logs", query)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.worker_thread
def test_a_failed_run_logs_its_start_each_node_the_failure_and_its_end(
    celery_worker, failing_workflow, run, auth_client
) -> None:
    execution = run(failing_workflow, {"n": 1}).json()
    assert execution["status"] == "failed", execution
    divide_error = next(n for n in execution["nodes"] if n["node_id"] == "divide")["error"]

    body = logs(auth_client, execution["id"])
    lines = body["results"]
    assert body["count"] == len(lines)
    messages = [line["message"] for line in lines]
    assert messages[0] == "Execution queued (workflow version 1)."
    assert messages[1] == "Execution started."
    assert messages[-1].startswith("Execution failed in ")
    assert lines[-1]["error_code"] == divide_error["code"]
    assert "(node divide)" in messages[-1]
    assert all(line["id"] is None for line in lines)  # every line read from the rows
    times = [line["created_at"] for line in lines]
    assert times == sorted(times)

    by_node = {}
    for line in lines:
        by_node.setdefault(line["node_id"], []).append(line)
    for node_id in ("start", "stamp"):
        started, ended = by_node[node_id]
        assert started["message"].startswith(f"Node {node_id} (")
        assert started["message"].endswith("started, attempt 1.")
        assert (started["level"], started["attempt"]) == ("info", 1)
        assert ended["message"].startswith(f"Node {node_id} completed in ")
        assert (ended["level"], ended["attempt"]) == ("info", 1)
        assert isinstance(ended["duration_ms"], int)
    started, failed = by_node["divide"]
    assert started["message"] == "Node divide (TRANSFORM) started, attempt 1."
    assert (failed["level"], failed["attempt"], failed["error_code"]) == ("error", 1, divide_error["code"])
    assert isinstance(failed["duration_ms"], int)
    assert f"attempt 1: {divide_error['code']}: " in failed["message"]
    assert [line["message"] for line in by_node["result"]] == ["Node result canceled before it started."]
    assert messages.index(failed["message"]) < len(messages) - 1  # the node's failure before the execution's end

    errors = logs(auth_client, execution["id"], level="error")
    assert [line["message"] for line in errors["results"]] == [failed["message"], messages[-1]]
    assert errors["count"] == 2
    both = logs(auth_client, execution["id"], level=["warning", "error"])
    assert both["count"] == 3  # and the canceled node
    assert [line["message"] for line in logs(auth_client, execution["id"], node_id="stamp")["results"]] == [
        started["message"].replace("divide", "stamp"),
        by_node["stamp"][1]["message"],
    ]
    assert logs(auth_client, execution["id"], search="CANCELED BEFORE")["count"] == 1

    first_page = logs(auth_client, execution["id"], page_size=3)
    assert first_page["count"] == len(lines)
    assert [line["message"] for line in first_page["results"]] == messages[:3]
    second_page = auth_client.get(first_page["next"]).json()
    assert [line["message"] for line in second_page["results"]] == messages[3:6]


@pytest.mark.worker_thread
def test_the_admin_change_page_shows_the_execution_log(celery_worker, failing_workflow, run, auth_client) -> None:
    execution = run(failing_workflow, {"n": 1}).json()
    assert execution["status"] == "failed", execution
    browser = Client()
    browser.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = browser.get(f"/admin/executions_app/execution/{execution['id']}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Execution log" in html
    for line in logs(auth_client, execution["id"])["results"]:
        assert line["message"].split(":")[0] in html  # escaped message text may differ past a quote
    assert "Node divide (TRANSFORM) started, attempt 1." in html
    assert "Execution started." in html
    assert "<td>error</td>" in html


def test_a_canceled_execution_merges_the_stored_line_in_time_order(auth_client, user) -> None:
    execution_id = queued_execution(user)
    canceled = auth_client.post(f"/api/executions/{execution_id}/cancel")
    assert canceled.json()["status"] == "canceled"

    lines = logs(auth_client, execution_id)["results"]

    assert [(line["level"], line["node_id"], line["message"]) for line in lines] == [
        ("info", "", "Execution queued (workflow version 1)."),
        ("warning", "start", "Node start canceled before it started."),
        ("warning", "result", "Node result canceled before it started."),
        ("warning", "", "Execution canceled before it started."),
        ("info", "", "Canceled by the user."),
    ]
    stored = ExecutionLog.objects.get(execution_id=execution_id)
    assert lines[-1]["id"] == stored.id
    assert logs(auth_client, execution_id, level="info", search="user")["count"] == 1


def test_a_bad_filter_is_a_400_and_another_users_log_a_404(auth_client, user) -> None:
    execution_id = queued_execution(user)
    response = auth_client.get(f"/api/executions/{execution_id}/logs", {"level": "loud"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "level" in response.json()["error"]["details"]
    other = queued_execution(UserFactory())
    response = auth_client.get(f"/api/executions/{other}/logs", {"level": "loud"})
    assert response.status_code == 404  # not the caller's: nothing about its filters either


def test_the_schema_documents_the_log_lines_and_their_filters(auth_client) -> None:
    schema = Client().get("/api/schema", {"format": "json"}).json()
    operation = schema["paths"]["/api/executions/{id}/logs"]["get"]
    query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"level", "node_id", "search", "page", "page_size"} <= query
    assert "400" in operation["responses"]
    line = schema["components"]["schemas"]["ExecutionLogOutput"]["properties"]
    assert {"id", "created_at", "level", "node_id", "message", "attempt", "duration_ms", "error_code"} == set(line)


# --- the lines of one node run, built from rows in memory -------------------------------

T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def at(ms: int) -> datetime.datetime:
    return T0 + datetime.timedelta(milliseconds=ms)


def an_execution(**fields) -> Execution:
    execution = Execution(created_at=T0, **fields)
    execution.version = WorkflowVersion(number=3)
    return execution


def test_earlier_attempts_that_failed_or_lost_their_worker_are_warnings_with_their_code() -> None:
    run = NodeRun(
        node_id="fetch",
        type="HTTP_REQUEST",
        status="completed",
        attempts=3,
        attempt_log=[
            {"n": 1, "latency_ms": 120.4, "error_code": "http_503"},
            {"n": 3, "latency_ms": 80.0},
        ],  # attempt 2 lost its worker: the claim counted, no entry
        started_at=at(10),
        finished_at=at(2010),
    )
    execution = an_execution(status="completed", started_at=at(10), finished_at=at(2010))

    lines = log_lines(execution, [run], [])

    assert [(line.level, line.attempt, line.duration_ms, line.error_code, line.message) for line in lines] == [
        ("info", None, None, None, "Execution queued (workflow version 3)."),
        ("info", None, None, None, "Execution started."),
        ("info", 1, None, None, "Node fetch (HTTP_REQUEST) started, attempt 1."),
        ("warning", 1, 120, "http_503", "Node fetch attempt 1 failed after 120 ms (http_503); tried again."),
        ("warning", 2, None, None, "Node fetch attempt 2 ended without a result (its worker was lost); tried again."),
        ("warning", 3, 2000, None, "Node fetch completed in 2000 ms, attempt 3."),
        ("info", None, 2000, None, "Execution completed in 2000 ms."),
    ]


def test_a_node_waiting_out_its_backoff_says_when_its_next_attempt_is_due() -> None:
    run = NodeRun(
        node_id="ask",
        type="AI_PROCESSOR",
        status="pending",
        attempts=1,
        attempt_log=[
            {"n": 1, "provider": "gemini", "latency_ms": 10, "error_code": "server_error"},
            {"n": 1, "provider": "groq", "latency_ms": 20, "error_code": "rate_limited"},
        ],
        started_at=at(5),
        ready_at=at(1005),
    )
    lines = log_lines(an_execution(status="running", started_at=at(5)), [run], [])
    waiting = lines[-1]
    assert (waiting.level, waiting.attempt, waiting.duration_ms, waiting.error_code) == (
        "warning",
        1,
        30,
        "rate_limited",
    )
    assert waiting.message == (
        f"Node ask attempt 1 failed after 30 ms (rate_limited); attempt 2 is due at {at(1005).isoformat()}."
    )


def test_reused_and_skipped_nodes_and_stored_lines_at_the_same_instant_keep_a_readable_order() -> None:
    runs = [
        NodeRun(
            node_id="start", type="INPUT", status="completed", reused_from_id=7, started_at=at(0), finished_at=at(0)
        ),
        NodeRun(node_id="maybe", type="TRANSFORM", status="skipped", finished_at=at(0)),
    ]
    stored = [ExecutionLog(pk=1, created_at=at(0), level="info", message="Retry of x: 1 node(s) reused.")]
    error = {"node_id": None, "code": "execution_timeout", "message": "The execution ran past its time limit."}
    execution = an_execution(status="failed", started_at=at(0), finished_at=at(0), error=error)

    lines = log_lines(execution, runs, stored)

    assert [line.message for line in lines] == [
        "Execution queued (workflow version 3).",
        "Execution started.",
        "Node start (INPUT) reused: its output is the retried execution's, not run again.",
        "Node maybe skipped: no taken edge led to it.",
        "Retry of x: 1 node(s) reused.",
        "Execution failed in 0 ms: execution_timeout: The execution ran past its time limit.",
    ]
    assert (lines[-1].level, lines[-1].error_code) == ("error", "execution_timeout")
    assert lines[4].id == 1
