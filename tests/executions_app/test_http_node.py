"""HTTP_REQUEST through real workers against a real local server (opened on purpose with
SWITCHBOARD_HTTP_ALLOWED_HOSTS; the in-process worker reads the same settings)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id
from tests.support.http_nodes import FAST_RETRY, one_call
from tests.support.http_server import allow, limit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.server
@pytest.mark.worker_thread
def test_methods_reach_the_server_with_their_bodies(celery_worker, make_workflow, run, server) -> None:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    calls = [node(m.lower(), "HTTP_REQUEST", {"method": m, "url": server.url(f"/echo/{m}")}) for m in methods]
    statuses = {m.lower(): f"{{{{ nodes.{m.lower()}.output.status }}}}" for m in methods}
    workflow_id = make_workflow(
        [input_node(), *calls, node("result", "OUTPUT", {"value": statuses})],
        [*[edge("start", m.lower()) for m in methods], *[edge(m.lower(), "result") for m in methods]],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    assert set(execution["outputs"]["result"].values()) == {200}
    assert sorted(r["method"] for r in server.requests) == sorted(methods)
    runs = nodes_by_id(execution)
    assert runs["post"]["output"]["json"]["method"] == "POST"
    assert runs["head"]["output"]["text"] == ""


@pytest.mark.server
@pytest.mark.worker_thread
def test_templated_url_query_headers_and_json_body(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(
        make_workflow,
        {
            "method": "post",
            "url": f"http://127.0.0.1:{server.port}/echo/{{{{ inputs.user }}}}",
            "query": {"q": "{{ inputs.user | upper }}", "n": "{{ inputs.n }}"},
            "headers": {"X-Request-For": "{{ inputs.user }}", "Accept": "application/json"},
            "json": {"user": "{{ inputs.user }}", "n": "{{ inputs.n }}", "fixed": [1, True]},
        },
        {"user": {"type": "string", "required": True}, "n": {"type": "integer", "default": 7}},
    )
    execution = run(workflow_id, {"user": "ada"}).json()
    assert execution["status"] == "completed", execution
    output = execution["outputs"]["result"]
    assert output["status"] == 200
    assert output["headers"]["content-type"] == "application/json"
    echo = output["json"]
    assert echo["path"] == "/echo/ada"
    assert echo["query"] == {"q": "ADA", "n": "7"}
    assert echo["headers"]["x-request-for"] == "ada"
    assert echo["headers"]["content-type"] == "application/json"
    assert echo["body"].startswith("{") and " " not in echo["body"]  # compact JSON
    assert json.loads(echo["body"]) == {"user": "ada", "n": 7, "fixed": [1, True]}
    assert echo["headers"]["idempotency-key"] == f"{execution['id']}:call"


@pytest.mark.server
@pytest.mark.worker_thread
def test_raw_body_and_text_responses(celery_worker, make_workflow, run, server) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("send", "HTTP_REQUEST", {"method": "PUT", "url": server.url(), "body": "id={{ execution.id }}"}),
            node("words", "HTTP_REQUEST", {"url": server.url("/text")}),
            node("result", "OUTPUT", {"value": {"echo": "{{ nodes.send.output.json }}",
                                                "words": "{{ nodes.words.output }}"}}),
        ],
        [edge("start", "send"), edge("start", "words"), edge("send", "result"), edge("words", "result")],
    )  # fmt: skip
    execution = run(workflow_id).json()
    result = execution["outputs"]["result"]
    assert result["echo"]["body"] == f"id={execution['id']}"
    assert result["echo"]["headers"]["content-type"] == "text/plain; charset=utf-8"
    assert result["words"]["text"] == "plain words"
    assert "json" not in result["words"]


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_5xx_is_retried_with_the_same_idempotency_key(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"method": "POST", "url": server.url("/flaky/2")}, retry=FAST_RETRY)
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    assert execution["outputs"]["result"]["json"] == {"hit": 3}
    call = nodes_by_id(execution)["call"]
    assert call["attempts"] == 3
    assert [entry.get("error_code") for entry in call["attempt_log"]] == ["http_status", "http_status", None]
    keys = {request["headers"]["idempotency-key"] for request in server.requests}
    assert keys == {f"{execution['id']}:call"}


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_5xx_fails_the_node_when_attempts_run_out(celery_worker, make_workflow, run, server) -> None:
    retry = {**FAST_RETRY, "max_attempts": 2}
    workflow_id = one_call(make_workflow, {"url": server.url("/status/502")}, retry=retry)
    execution = run(workflow_id).json()
    assert execution["status"] == "failed"
    call = nodes_by_id(execution)["call"]
    assert call["error"]["code"] == "http_status"
    assert "answered 502" in call["error"]["message"]
    assert server.hits["/status/502"] == 2


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_404_is_not_retried(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"url": server.url("/status/404")}, retry=FAST_RETRY)
    execution = run(workflow_id).json()
    call = nodes_by_id(execution)["call"]
    assert (execution["status"], call["error"]["code"], call["attempts"]) == ("failed", "http_status", 1)
    assert server.hits["/status/404"] == 1


@pytest.mark.server
@pytest.mark.worker_thread
def test_expect_status_accepts_what_it_names(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"url": server.url("/status/404"), "expect_status": [200, 404]})
    execution = run(workflow_id).json()
    assert execution["status"] == "completed"
    assert execution["outputs"]["result"]["status"] == 404
    assert execution["outputs"]["result"]["text"] == "status 404"
    strict = one_call(make_workflow, {"url": server.url("/echo"), "expect_status": 201})
    assert nodes_by_id(run(strict).json())["call"]["error"]["code"] == "http_status"


@pytest.mark.server
@pytest.mark.worker_thread
def test_retry_after_is_respected(celery_worker, make_workflow, run, server) -> None:
    retry = {"max_attempts": 2, "backoff_s": 0.05, "max_backoff_s": 0.1}
    workflow_id = one_call(make_workflow, {"url": server.url("/retry-after/1")}, retry=retry)
    execution = run(workflow_id).json()
    assert execution["status"] == "failed"
    assert nodes_by_id(execution)["call"]["error"]["code"] == "http_status"
    first, second = (request["at"] for request in server.requests)
    assert second - first >= 0.95  # not the 0.1 s backoff


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_response_over_the_size_cap_fails_the_node(celery_worker, make_workflow, run, server, settings) -> None:
    limit(settings, HTTP_MAX_RESPONSE_BYTES=1000)
    workflow_id = one_call(make_workflow, {"url": server.url("/big/5000")})
    call = nodes_by_id(run(workflow_id).json())["call"]
    assert call["status"] == "failed"
    assert call["error"]["code"] == "response_too_large"


@pytest.mark.server
@pytest.mark.worker_thread
def test_the_deadline_ends_a_trickling_response(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"url": server.url("/trickle"), "timeout_s": 1})
    call = nodes_by_id(run(workflow_id).json())["call"]
    assert call["error"]["code"] == "http_timeout"
    took = datetime.fromisoformat(call["finished_at"]) - datetime.fromisoformat(call["started_at"])
    assert took.total_seconds() < 5  # the whole body would take 20 s


@pytest.mark.server
@pytest.mark.worker_thread
def test_the_node_timeout_is_the_deadline_too(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"url": server.url("/trickle"), "timeout_s": 60}, timeout_s=1)
    call = nodes_by_id(run(workflow_id).json())["call"]
    assert call["error"]["code"] == "http_timeout"
    took = datetime.fromisoformat(call["finished_at"]) - datetime.fromisoformat(call["started_at"])
    assert took.total_seconds() < 5


@pytest.mark.server
@pytest.mark.worker_thread
@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:{port}/echo",  # a name for the allowed address is not the allowed entry
        "http://2130706433:{port}/echo",
        "http://[::ffff:127.0.0.1]:{port}/echo",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:{port}/redirect?to=http://localhost:{port}/echo",
    ],
)
def test_a_refused_url_is_a_clear_node_error(celery_worker, make_workflow, run, server, url) -> None:
    # 2130706433 is 127.0.0.1, which is opened for the server's port: refused only because the
    # allow-list names 127.0.0.1 for that port, so check the decimal form on another port.
    url = url.format(port=server.port + 1 if url.startswith("http://2130706433") else server.port)
    workflow_id = one_call(make_workflow, {"url": "{{ inputs.url }}"}, {"url": {"type": "string"}}, retry=FAST_RETRY)
    execution = run(workflow_id, {"url": url}).json()
    call = nodes_by_id(execution)["call"]
    assert call["error"]["code"] == "url_not_allowed"
    assert call["attempts"] == 1
    assert server.hits["/echo"] == 0


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_templated_url_with_another_scheme_is_refused(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"url": "{{ inputs.url }}"}, {"url": {"type": "string"}})
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:70/"):
        call = nodes_by_id(run(workflow_id, {"url": url}).json())["call"]
        assert call["error"]["code"] == "url_not_allowed", call


@pytest.mark.server
@pytest.mark.worker_thread
def test_on_error_continue_keeps_the_error_as_output(celery_worker, make_workflow, run, server) -> None:
    workflow_id = one_call(make_workflow, {"url": server.url("/status/500")}, on_error="continue")
    execution = run(workflow_id).json()
    assert execution["status"] == "completed"
    assert execution["outputs"]["result"]["error"]["code"] == "http_status"


@pytest.mark.server
def test_framing_headers_are_refused_when_saving(auth_client, server) -> None:
    definition = {
        "nodes": [
            input_node(),
            node("call", "HTTP_REQUEST", {"url": server.url(), "headers": {"Host": "internal", "Bad Name": "x"}}),
            node("result", "OUTPUT", {"value": 1}),
        ],
        "edges": [edge("start", "call"), edge("call", "result")],
    }
    response = auth_client.post("/api/workflows/validate", {"definition": definition}, format="json")
    assert response.status_code == 400
    assert "headers" in response.json()["error"]["details"][0]["path"]


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_secret_body_is_not_carried_by_a_redirect_to_another_origin(
    celery_worker, make_workflow, run, auth_client, server, settings
) -> None:
    allow(settings, f"127.0.0.1:{server.port}", f"localhost:{server.port}")
    auth_client.post("/api/credentials", {"name": "token", "value": "s3cret-Zq9"}, format="json")
    to_other_origin = server.url(f"/redirect?code=307&to=http://localhost:{server.port}/echo")
    workflow_id = one_call(
        make_workflow, {"method": "POST", "url": to_other_origin, "json": {"token": "{{ secrets.token }}"}}
    )
    execution = run(workflow_id).json()
    call = nodes_by_id(execution)["call"]
    assert (execution["status"], call["error"]["code"]) == ("failed", "url_not_allowed")
    assert "body holds a secret" in call["error"]["message"]
    assert server.hits == {"/redirect": 1}  # the first server got it; the second never did
    # A 303 turns the call into a GET without the body: followed.
    see_other = server.url(f"/redirect?code=303&to=http://localhost:{server.port}/echo")
    workflow_id = one_call(make_workflow, {"method": "POST", "url": see_other, "json": {"t": "{{ secrets.token }}"}})
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    assert (execution["outputs"]["result"]["json"]["method"], server.requests[-1]["body"]) == ("GET", "")


@pytest.mark.server
@pytest.mark.worker_thread
def test_a_secret_the_protocol_refuses_is_not_in_the_error(
    celery_worker, make_workflow, run, auth_client, server
) -> None:
    auth_client.post("/api/credentials", {"name": "token", "value": "sk-live-Zq9\r\nX-Injected: 1"}, format="json")
    config = {"url": server.url(), "headers": {"Authorization": "Bearer {{ secrets.token }}"}}
    execution = run(one_call(make_workflow, config)).json()
    call = nodes_by_id(execution)["call"]
    assert call["error"]["code"] == "invalid_request"
    assert "sk-live" not in json.dumps(execution)
    assert server.total_hits == 0


def test_redaction_covers_a_secret_as_an_error_quotes_it() -> None:
    from outbound.redaction import Redactor
    from workflows_app.nodes.http_request import escaped_forms

    secret = "sk-é\\x\n'"
    redactor = Redactor(escaped_forms([secret]))
    for quoted in (repr(secret), ascii(secret), repr(secret.encode()), f"Illegal header value {secret.encode()!r}"):
        assert "sk-" not in redactor.text(quoted), quoted
