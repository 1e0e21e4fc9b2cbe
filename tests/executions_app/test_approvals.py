"""APPROVAL nodes with real workers: the owner's decision (approve, reject on a branch or
as a failure, corrected data), the inbox, another user's 404, the second decision's 409,
signed links (GET confirms, a POST with CSRF decides once, expired and reused links are
refused), the timeout's default decision, and a decision made while the worker is dead."""

from __future__ import annotations

import datetime as dt
import re
import signal
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from gunicorn.config import Config

from accounts_app.tokens import refresh_token_for
from core.access_log import RedactingLogger
from core.log_filters import redact_hook_tokens
from executions_app.engine.wakes import wake_due
from executions_app.models import ApprovalLink, Execution, NodeRun
from tests.support.api import bearer_client
from tests.support.definitions import edge, input_node, node
from tests.support.factories import UserFactory
from tests.support.workers import wait_for, worker_process

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number", "maximum": 100}},
    "required": ["amount"],
}


def approval_workflow(make_workflow: Any, **config: Any) -> str:
    """start -> review (APPROVAL) -> paid (true) / refused (false)."""
    review = {
        "message": "Refund {{ inputs.amount }} to {{ inputs.who }}?",
        "data": {"amount": "{{ inputs.amount }}"},
        "data_schema": SCHEMA,
        **config,
    }
    return make_workflow(
        [
            input_node(amount={"type": "number"}, who={"type": "string"}),
            node("review", "APPROVAL", review, timeout_s=3600),
            node("paid", "OUTPUT", {"value": "paid {{ nodes.review.output.data.amount }}"}),
            node("refused", "OUTPUT", {"value": "refused: {{ nodes.review.output.comment }}"}),
        ],
        [edge("start", "review"), edge("review", "paid", "true"), edge("review", "refused", "false")],
    )


def start_waiting(run: Any, workflow_id: str, amount: float = 120) -> str:
    execution_id = run(workflow_id, {"amount": amount, "who": "Ada"}, wait=None).json()["id"]
    wait_for(lambda: review_of(execution_id).status == "waiting", timeout=30)
    return execution_id


def review_of(execution_id: str) -> NodeRun:
    return NodeRun.objects.get(execution_id=execution_id, node_id="review")


def finished(execution_id: str) -> Execution:
    return wait_for(
        lambda: Execution.objects.filter(id=execution_id, status__in=("completed", "failed", "canceled")).first(),
        timeout=30,
    )


def decision_url(execution_id: str) -> str:
    return f"/api/executions/{execution_id}/nodes/review/decision"


def links_url(execution_id: str) -> str:
    return f"/api/executions/{execution_id}/nodes/review/links"


@pytest.fixture
def stranger() -> Any:
    return bearer_client(str(refresh_token_for(UserFactory()).access_token))


@pytest.mark.worker_thread
def test_the_owner_sees_it_in_the_inbox_corrects_the_data_and_approves(
    celery_worker, make_workflow, run, auth_client, user
) -> None:
    execution_id = start_waiting(run, approval_workflow(make_workflow))

    inbox = auth_client.get("/api/approvals").json()
    assert inbox["count"] == 1
    (item,) = inbox["results"]
    assert item["execution_id"] == execution_id and item["node_id"] == "review"
    assert item["message"] == "Refund 120 to Ada?"
    assert item["data"] == {"amount": 120} and item["data_schema"] == SCHEMA
    assert item["requested_at"] and item["expires_at"] is None

    # The proposed amount breaks the schema: approving it as it is asks for a correction.
    refused = auth_client.post(decision_url(execution_id), {"decision": "approve"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["data"] == ["amount: 120 is greater than the maximum of 100"]
    for body in (
        {"decision": "maybe"},
        {"decision": "approve", "comment": "x" * 2001},
        {"decision": "approve", "data": [1]},
        {"decision": "approve", "colour": "red"},
    ):
        answer = auth_client.post(decision_url(execution_id), body, format="json")
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "validation_error", body
    assert review_of(execution_id).status == "waiting"

    decided = auth_client.post(
        decision_url(execution_id), {"decision": "approve", "comment": "ok", "data": {"amount": 80}}, format="json"
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["decision"] == "approve" and decided.json()["by"] == user.username

    execution = finished(execution_id)
    assert execution.status == "completed", execution.error
    assert execution.outputs == {"paid": "paid 80"}
    review = review_of(execution_id)
    assert review.output["result"] is True
    assert (review.output["by"], review.output["comment"]) == (user.username, "ok")
    assert review.output["data"] == {"amount": 80}
    assert NodeRun.objects.get(execution_id=execution_id, node_id="refused").status == "skipped"
    logs = auth_client.get(f"/api/executions/{execution_id}/logs").json()["results"]
    assert any(line["message"] == f"Approved by {user.username}: ok" for line in logs)
    assert auth_client.get("/api/approvals").json()["count"] == 0


@pytest.mark.worker_thread
def test_a_rejection_takes_the_false_branch(celery_worker, make_workflow, run, auth_client) -> None:
    execution_id = start_waiting(run, approval_workflow(make_workflow))

    answer = auth_client.post(decision_url(execution_id), {"decision": "reject", "comment": "too much"}, format="json")

    assert answer.status_code == 200
    execution = finished(execution_id)
    assert execution.status == "completed"
    assert execution.outputs == {"refused": "refused: too much"}
    assert review_of(execution_id).output["result"] is False


@pytest.mark.worker_thread
def test_a_rejection_fails_the_node_when_so_configured(celery_worker, make_workflow, run, auth_client) -> None:
    execution_id = start_waiting(run, approval_workflow(make_workflow, on_reject="fail"))

    auth_client.post(decision_url(execution_id), {"decision": "reject", "comment": "no"}, format="json")

    execution = finished(execution_id)
    assert execution.status == "failed"
    review = review_of(execution_id)
    assert review.status == "failed"
    assert review.error["code"] == "rejected" and "no" in review.error["message"]


@pytest.mark.worker_thread
def test_another_users_decision_is_a_404_and_a_second_decision_a_409(
    celery_worker, make_workflow, run, auth_client, stranger
) -> None:
    execution_id = start_waiting(run, approval_workflow(make_workflow, links=True))
    approve = {"decision": "approve", "data": {"amount": 10}}

    for url in (decision_url(execution_id), links_url(execution_id)):
        answer = stranger.post(url, approve, format="json")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", url
    assert stranger.get("/api/approvals").json()["count"] == 0
    assert review_of(execution_id).status == "waiting"

    assert auth_client.post(links_url(execution_id)).status_code == 201
    assert auth_client.post(decision_url(execution_id), approve, format="json").status_code == 200
    assert stranger.post(decision_url(execution_id), approve, format="json").status_code == 404
    again = auth_client.post(decision_url(execution_id), {"decision": "reject"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] in ("already_decided", "not_waiting")
    assert finished(execution_id).status == "completed"
    assert review_of(execution_id).output["decision"] == "approve"

    missing = auth_client.post(f"/api/executions/{execution_id}/nodes/nope/decision", approve, format="json")
    assert missing.status_code == 404
    not_approval = auth_client.post(f"/api/executions/{execution_id}/nodes/paid/decision", approve, format="json")
    assert not_approval.status_code == 409 and not_approval.json()["error"]["code"] == "not_waiting"


def link_token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def confirm_page(client: Client, url: str) -> str:
    """GETs the page and returns the CSRF token of its form."""
    page = client.get(url)
    assert page.status_code == 200, page.content
    assert page["Referrer-Policy"] == "no-referrer"
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found
    return found.group(1)


@pytest.mark.worker_thread
def test_a_signed_link_confirms_on_get_decides_on_post_once(celery_worker, make_workflow, run, auth_client) -> None:
    workflow_id = approval_workflow(make_workflow, links=True)
    execution_id = start_waiting(run, workflow_id, amount=40)

    first = auth_client.post(links_url(execution_id)).json()
    links = auth_client.post(links_url(execution_id)).json()  # asked again: the first ones die
    approve, reject = links["approve_url"], links["reject_url"]
    assert approve.startswith("http://testserver/approvals/apl_")
    tokens = [link_token(approve), link_token(reject)]
    stored = list(ApprovalLink.objects.values_list("token_hash", flat=True))
    assert len(stored) == 2 and not set(tokens) & set(stored)

    browser = Client(enforce_csrf_checks=True)
    assert browser.get(first["approve_url"]).status_code == 404
    csrf = confirm_page(browser, approve)
    page = browser.get(approve).content.decode()
    assert "Refund 40 to Ada?" in page and "Approve" in page
    assert review_of(execution_id).status == "waiting"  # a GET never decides

    assert browser.post(approve, {"comment": "fine"}).status_code == 403  # no CSRF token
    assert review_of(execution_id).status == "waiting"
    decided = browser.post(approve, {"comment": "fine", "csrfmiddlewaretoken": csrf})
    assert decided.status_code == 200 and "recorded" in decided.content.decode()

    execution = finished(execution_id)
    assert execution.status == "completed" and execution.outputs == {"paid": "paid 40"}
    assert review_of(execution_id).output["by"] == "link"

    again = browser.post(approve, {"csrfmiddlewaretoken": csrf}, HTTP_ACCEPT="application/json")
    assert again.status_code == 410 and again.json()["error"]["code"] == "link_used"
    assert browser.get(reject).status_code == 410  # one decision per approval
    assert browser.get("/approvals/apl_" + "x" * 43).status_code == 404


@pytest.mark.worker_thread
def test_links_are_refused_unless_the_node_allows_them(celery_worker, make_workflow, run, auth_client) -> None:
    execution_id = start_waiting(run, approval_workflow(make_workflow))

    answer = auth_client.post(links_url(execution_id))

    assert answer.status_code == 409 and answer.json()["error"]["code"] == "links_disabled"


def wake_when_due(execution_id: str) -> None:
    """Runs the timer loop's step, as the clock does, until the review is woken."""
    wait_for(lambda: wake_due(timezone.now(), 10) or review_of(execution_id).status != "waiting", timeout=30)


@pytest.mark.worker_thread
def test_an_expired_link_is_refused(celery_worker, make_workflow, run, auth_client) -> None:
    workflow_id = approval_workflow(make_workflow, links=True, decision_timeout_s=1)
    execution_id = start_waiting(run, workflow_id, amount=40)
    approve = auth_client.post(links_url(execution_id)).json()["approve_url"]
    expires_at = dt.datetime.fromisoformat(review_of(execution_id).state["expires_at"])
    wait_for(lambda: timezone.now() > expires_at, timeout=10)

    browser = Client()
    page = browser.get(approve, HTTP_ACCEPT="application/json")
    assert page.status_code == 410 and page.json()["error"]["code"] == "link_expired"
    assert browser.post(approve, {}).status_code == 410
    late = auth_client.post(decision_url(execution_id), {"decision": "approve"}, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "expired"


@pytest.mark.worker_thread
def test_the_timeout_applies_the_default_decision(celery_worker, make_workflow, run, auth_client) -> None:
    workflow_id = approval_workflow(make_workflow, decision_timeout_s=1, default_decision="approve")
    execution_id = start_waiting(run, workflow_id, amount=30)
    assert auth_client.get("/api/approvals").json()["results"][0]["expires_at"]

    wake_when_due(execution_id)

    execution = finished(execution_id)
    assert execution.status == "completed" and execution.outputs == {"paid": "paid 30"}
    output = review_of(execution_id).output
    assert (output["decision"], output["by"], output["data"]) == ("approve", "timeout", {"amount": 30})


@pytest.mark.worker_thread
def test_a_decision_timeout_past_the_nodes_time_fails_at_once(celery_worker, make_workflow, run) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("review", "APPROVAL", {"message": "ok?", "decision_timeout_s": 7200}, timeout_s=60),
            node("result", "OUTPUT", {"value": 1}),
        ],
        [edge("start", "review"), edge("review", "result")],
    )

    execution = finished(run(workflow_id, wait=None).json()["id"])

    assert execution.status == "failed"
    assert review_of(str(execution.id)).error["code"] == "node_timeout"


def test_a_data_schema_that_is_no_schema_is_refused_when_saved(auth_client) -> None:
    definition = {
        "nodes": [input_node(), node("review", "APPROVAL", {"message": "ok?", "data_schema": {"type": "nope"}})],
        "edges": [edge("start", "review")],
    }
    answer = auth_client.post("/api/workflows", {"name": "wf", "definition": definition}, format="json")
    assert answer.status_code == 400
    assert "data_schema is not a valid JSON Schema" in str(answer.json()["error"]["details"])


def test_approval_link_tokens_are_redacted_from_the_access_line() -> None:
    token = "apl_" + "Ab1_" * 10 + "xyz"
    assert redact_hook_tokens(f'"POST /approvals/{token} HTTP/1.1"') == '"POST /approvals/<redacted> HTTP/1.1"'
    assert redact_hook_tokens("/api/approvals?page=2") == "/api/approvals?page=2"
    logger = RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/approvals/{token}", "SERVER_PROTOCOL": "HTTP/1.1"}
    resp = SimpleNamespace(status="200 OK", headers=[], sent=10)
    req = SimpleNamespace(headers=[("REFERER", f"https://example.com/approvals/{token}")])
    atoms = logger.atoms(resp, req, environ, dt.timedelta(milliseconds=3))
    assert token not in " ".join(str(value) for value in atoms.values())


@pytest.mark.worker_process
def test_an_approval_decided_while_its_workers_are_dead_completes_on_a_new_worker(
    make_workflow, run, auth_client
) -> None:
    workflow_id = approval_workflow(make_workflow)
    with worker_process(concurrency=1) as worker:
        execution_id = start_waiting(run, workflow_id, amount=20)
        worker.kill(signal.SIGKILL)

    answer = auth_client.post(decision_url(execution_id), {"decision": "approve"}, format="json")
    assert answer.status_code == 200

    with worker_process(concurrency=1):
        execution = finished(execution_id)
    assert execution.status == "completed", execution.error
    assert execution.outputs == {"paid": "paid 20"}
    assert review_of(execution_id).resumes == 1
