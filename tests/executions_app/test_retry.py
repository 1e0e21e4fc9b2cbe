"""Retry of a failed or canceled execution: a new execution on the same version and
inputs that reuses what completed, refused like a new execution would be, one at a time."""

from __future__ import annotations

import pytest
from django.test import Client

from executions_app.models import Execution
from executions_app.selectors import execution_status
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id, read_events, status_of
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker_thread
def test_retry_from_failure_reuses_completed_outputs_and_runs_the_rest(
    celery_worker, make_workflow, run, auth_client
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
    retried = auth_client.post(f"/api/executions/{failed['id']}/retry").json()
    wait_for(lambda: status_of(auth_client, retried["id"])["status"] in ("completed", "failed"))
    retried = status_of(auth_client, retried["id"])
    original_runs, runs = nodes_by_id(failed), nodes_by_id(retried)
    for reused in ("start", "stamp", "check"):
        assert runs[reused]["reused_from"] is not None
        assert runs[reused]["output"] == original_runs[reused]["output"]
        assert runs[reused]["attempts"] == 0  # not run again
    assert runs["skipped"]["status"] == "skipped"
    assert runs["divide"]["reused_from"] is None
    assert runs["divide"]["attempts"] == 1
    assert retried["status"] == "failed"
    assert auth_client.post(f"/api/executions/{retried['id']}/retry").status_code == 201
    ok = run(workflow_id, {"n": 3}).json()
    conflict = auth_client.post(f"/api/executions/{ok['id']}/retry")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "not_retryable"


@pytest.mark.worker_thread
def test_retry_of_a_canceled_execution_finishes_it(celery_worker, make_workflow, run, auth_client) -> None:
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
    wait_for(lambda: nodes_by_id(status_of(auth_client, execution_id))["pause"]["status"] == "running")
    auth_client.post(f"/api/executions/{execution_id}/cancel")
    # The running node finishes after the cancel; its result is kept and reused.
    wait_for(lambda: nodes_by_id(status_of(auth_client, execution_id))["pause"]["status"] == "completed")
    assert nodes_by_id(status_of(auth_client, execution_id))["result"]["status"] == "canceled"
    retried = auth_client.post(f"/api/executions/{execution_id}/retry").json()
    wait_for(lambda: status_of(auth_client, retried["id"])["status"] == "completed")
    done = status_of(auth_client, retried["id"])
    # The first node's output is reused: it still names the original execution.
    assert done["outputs"]["result"] == execution_id
    assert nodes_by_id(done)["pause"]["reused_from"] is not None


@pytest.mark.worker_thread
def test_a_retry_that_reuses_every_node_is_completed_at_once_and_says_so_in_order(
    celery_worker, make_workflow, run, auth_client, user
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
    wait_for(lambda: nodes_by_id(status_of(auth_client, execution_id))["pause"]["status"] == "running")
    auth_client.post(f"/api/executions/{execution_id}/cancel")
    wait_for(lambda: nodes_by_id(status_of(auth_client, execution_id))["pause"]["status"] == "completed")

    retried = auth_client.post(f"/api/executions/{execution_id}/retry").json()

    assert retried["status"] == "completed"
    assert retried["outputs"]["result"] == execution_id
    assert execution_status(retried["id"]) == "completed"  # what `wait` reads
    browser = Client()
    browser.force_login(user)
    changes = [e["status"] for _, e in read_events(browser, retried["id"]) if e["kind"] == "execution"]
    assert changes == ["running", "completed"]


def test_a_second_retry_while_the_first_runs_is_a_409_naming_it(make_workflow, run, auth_client) -> None:
    """A double click on Retry: every node not reused (paid AI calls too) would run twice.
    No worker runs here, so the first retry stays queued."""
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    execution_id = run(workflow_id, wait=None).json()["id"]
    auth_client.post(f"/api/executions/{execution_id}/cancel")

    first = auth_client.post(f"/api/executions/{execution_id}/retry")
    second = auth_client.post(f"/api/executions/{execution_id}/retry")

    assert first.status_code == 201
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["details"]["execution_id"]) == ("retry_in_progress", first.json()["id"])
    auth_client.post(f"/api/executions/{first.json()['id']}/cancel")
    assert auth_client.post(f"/api/executions/{execution_id}/retry").status_code == 201  # once it ended, again


def test_retry_is_refused_like_a_new_execution_for_an_inactive_or_archived_workflow(
    make_workflow, run, auth_client
) -> None:
    workflow_id = make_workflow([input_node(), node("result", "OUTPUT", {"value": 1})], [edge("start", "result")])
    execution_id = run(workflow_id, wait=None).json()["id"]  # no worker: it stays queued
    assert auth_client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"

    auth_client.patch(f"/api/workflows/{workflow_id}", {"is_active": False}, format="json")
    inactive = auth_client.post(f"/api/executions/{execution_id}/retry")
    assert inactive.status_code == 409
    assert inactive.json()["error"]["code"] == "workflow_inactive"

    auth_client.patch(f"/api/workflows/{workflow_id}", {"is_active": True}, format="json")
    assert auth_client.delete(f"/api/workflows/{workflow_id}").status_code == 204
    archived = auth_client.post(f"/api/executions/{execution_id}/retry")
    assert archived.status_code == 404
    assert archived.json()["error"]["code"] == "not_found"
    assert Execution.objects.filter(retried_from_id=execution_id).count() == 0
