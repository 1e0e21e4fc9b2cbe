"""HTTP_REQUEST answers that need care: values no database stores, a failure after the
execution ended, bodies HEAD does not have, charsets Python does not know."""

from __future__ import annotations

import time

import pytest

from tests.support.executions import nodes_by_id
from tests.support.http_nodes import FAST_RETRY, one_call
from tests.support.http_server import limit
from tests.support.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server, pytest.mark.worker_thread]


def test_a_json_reply_with_nan_fails_the_node_at_once(celery_worker, make_workflow, run, server) -> None:
    """Python's json reads NaN and 1e400; PostgreSQL and SQLite refuse to store them. The
    node fails with a clear error instead of being left running until its lease expires."""
    execution = run(one_call(make_workflow, {"url": server.url("/nan")}, retry=FAST_RETRY)).json()
    call = nodes_by_id(execution)["call"]
    assert (execution["status"], call["status"], call["attempts"]) == ("failed", "failed", 1), execution
    assert call["error"]["code"] == "output_invalid"
    assert "NaN or Infinity" in call["error"]["message"]


def test_an_error_body_with_a_nul_is_quoted_in_the_error(celery_worker, make_workflow, run, server) -> None:
    execution = run(one_call(make_workflow, {"url": server.url("/nul-error/404")})).json()
    call = nodes_by_id(execution)["call"]
    assert (execution["status"], call["status"]) == ("failed", "failed"), execution
    assert call["error"]["code"] == "http_status"
    assert "broken\\u0000reply" in call["error"]["message"]


def test_a_failure_after_the_execution_was_canceled_is_not_retried(
    celery_worker, make_workflow, run, auth_client, server
) -> None:
    """The node was running when the execution was canceled, then failed in a way it would
    retry: it ends failed, nothing is queued, and it does not sit `pending` for ever."""
    retry = {"max_attempts": 3, "backoff_s": 0.2, "max_backoff_s": 0.2}
    execution_id = run(one_call(make_workflow, {"url": server.url("/slow-503/1500")}, retry=retry), wait=None).json()[
        "id"
    ]
    wait_for(lambda: server.hits["/slow-503/1500"] == 1)
    assert auth_client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"

    call = wait_for(lambda: (found := nodes_by_id(auth_client.get(f"/api/executions/{execution_id}").json())["call"])
                    ["status"] != "running" and found)  # fmt: skip
    time.sleep(0.5)  # past the backoff: a retry would have called again by now
    assert (call["status"], call["attempts"], call["error"]["code"]) == ("failed", 1, "http_status")
    assert nodes_by_id(auth_client.get(f"/api/executions/{execution_id}").json())["call"]["status"] == "failed"
    assert server.hits["/slow-503/1500"] == 1


def test_a_head_of_a_resource_over_the_size_cap_tells_its_size(celery_worker, make_workflow, run, server, settings):
    """HEAD answers with the resource's Content-Length and no body: nothing to cap."""
    limit(settings, HTTP_MAX_RESPONSE_BYTES=1000)
    execution = run(one_call(make_workflow, {"method": "HEAD", "url": server.url("/big/5000")})).json()
    assert execution["status"] == "completed", execution
    output = execution["outputs"]["result"]
    assert (output["status"], output["headers"]["content-length"], output["text"]) == (200, "5000", "")


@pytest.mark.parametrize("charset", ["binary", "base64"])  # unknown; known but not a text encoding
def test_a_charset_that_is_not_a_text_encoding_is_read_as_utf8(celery_worker, make_workflow, run, server, charset):
    execution = run(one_call(make_workflow, {"url": server.url(f"/charset/{charset}")})).json()
    assert execution["status"] == "completed", execution
    assert execution["outputs"]["result"]["text"] == "caf\u00e9"
