"""The executions API: create, idempotency, wait, bad inputs, isolation, list and logs."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from executions_app.models import Execution
from tests.support.definitions import edge, input_node, node
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def queued_messages() -> int:
    redis = get_redis_connection("default")
    return sum(redis.llen(f"{settings.REDIS_KEY_PREFIX}:{queue}") for queue in ("nodes", "ai", "default"))


@pytest.fixture
def echo_workflow(make_workflow) -> str:
    return make_workflow(
        [
            input_node(text={"type": "string", "required": True}, count={"type": "integer"}),
            node("result", "OUTPUT", {"value": "{{ inputs.text }}"}),
        ],
        [edge("start", "result")],
    )


@pytest.fixture
def slow_workflow(make_workflow) -> str:
    return make_workflow(
        [input_node(), node("pause", "WAIT", {"seconds": 1.5}), node("result", "OUTPUT", {"value": "done"})],
        [edge("start", "pause"), edge("pause", "result")],
    )


def test_bad_inputs_answer_400_with_every_problem_and_queue_nothing(echo_workflow, run) -> None:
    response = run(echo_workflow, {"count": "many", "extra": 1}, wait=None)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    problems = str(body["details"])
    assert "text" in problems
    assert "count" in problems
    assert "extra" in problems
    assert Execution.objects.count() == 0
    assert queued_messages() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"inputs": {}}, "workflow_id"),
        ({"workflow_id": "not-a-uuid"}, "workflow_id"),
        ({"workflow_id": "00000000-0000-0000-0000-000000000000", "wait": 61}, "wait"),
        ({"workflow_id": "00000000-0000-0000-0000-000000000000", "inputs": [1]}, "inputs"),
        ({"workflow_id": "00000000-0000-0000-0000-000000000000", "colour": "red"}, "colour"),
    ],
)
def test_malformed_create_bodies_are_400(auth_client, body, field) -> None:
    response = auth_client.post("/api/executions", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_wait_in_the_query_string_is_400_and_runs_nothing(auth_client, echo_workflow) -> None:
    response = auth_client.post(
        "/api/executions?wait=30", {"workflow_id": echo_workflow, "inputs": {"text": "hi"}}, format="json"
    )
    assert response.status_code == 400
    assert "JSON body" in response.json()["error"]["details"]["wait"][0]
    assert Execution.objects.count() == 0


@pytest.mark.worker_thread
def test_queued_without_wait_answers_202_and_a_worker_finishes_it(
    celery_worker, echo_workflow, run, auth_client
) -> None:
    response = run(echo_workflow, {"text": "hi"}, wait=None)
    assert response.status_code == 202
    assert response.json()["status"] in ("queued", "running", "completed")
    from tests.support.workers import wait_for

    execution_id = response.json()["id"]
    done = wait_for(lambda: auth_client.get(f"/api/executions/{execution_id}").json()["status"] == "completed")
    assert done
    assert auth_client.get(f"/api/executions/{execution_id}").json()["outputs"] == {"result": "hi"}


@pytest.mark.worker_thread
def test_wait_returns_the_finished_execution(celery_worker, echo_workflow, run) -> None:
    response = run(echo_workflow, {"text": "hi"}, wait=20)
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["outputs"] == {"result": "hi"}


@pytest.mark.worker_thread
def test_wait_that_runs_out_answers_202_with_the_current_state(celery_worker, slow_workflow, run, auth_client) -> None:
    response = run(slow_workflow, wait=0.3)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] in ("queued", "running")
    assert {n["node_id"]: n["status"] for n in body["nodes"]}["result"] == "pending"
    finished = run(slow_workflow, wait=20)
    assert finished.status_code == 200


@pytest.mark.worker_thread
def test_same_idempotency_key_returns_the_first_execution(celery_worker, echo_workflow, run) -> None:
    first = run(echo_workflow, {"text": "hi"}, wait=10, **{"Idempotency-Key": "order-42"})
    second = run(echo_workflow, {"text": "hi"}, wait=10, **{"Idempotency-Key": "order-42"})
    assert first.json()["id"] == second.json()["id"]
    assert Execution.objects.count() == 1
    conflict = run(echo_workflow, {"text": "other"}, wait=None, **{"Idempotency-Key": "order-42"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert Execution.objects.count() == 1


def test_idempotency_keys_are_per_user(echo_workflow, run, make_workflow) -> None:
    other = APIClient()
    other.force_authenticate(UserFactory())
    theirs = other.post(
        "/api/workflows",
        {
            "name": "x",
            "definition": {"nodes": [input_node(), node("o", "OUTPUT", {"value": 1})], "edges": [edge("start", "o")]},
        },
        format="json",
    ).json()["id"]
    mine = run(echo_workflow, {"text": "a"}, wait=None, **{"Idempotency-Key": "k"})
    response = other.post("/api/executions", {"workflow_id": theirs}, format="json", headers={"Idempotency-Key": "k"})
    assert response.status_code == 202
    assert response.json()["id"] != mine.json()["id"]


def test_inactive_workflow_refuses_new_executions(auth_client, echo_workflow, run) -> None:
    assert auth_client.patch(f"/api/workflows/{echo_workflow}", {"is_active": False}, format="json").status_code == 200
    response = run(echo_workflow, {"text": "hi"}, wait=None)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "workflow_inactive"


def test_archived_workflow_cannot_be_run(auth_client, echo_workflow, run) -> None:
    assert auth_client.delete(f"/api/workflows/{echo_workflow}").status_code == 204
    assert run(echo_workflow, {"text": "hi"}, wait=None).status_code == 404


@pytest.mark.worker_thread
def test_another_users_executions_are_404(celery_worker, echo_workflow, run) -> None:
    execution_id = run(echo_workflow, {"text": "hi"}).json()["id"]
    other = APIClient()
    other.force_authenticate(UserFactory())
    for path in ("", "/logs"):
        response = other.get(f"/api/executions/{execution_id}{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert other.post(f"/api/executions/{execution_id}/cancel").status_code == 404
    assert other.post("/api/executions", {"workflow_id": echo_workflow}, format="json").status_code == 404
    assert other.get("/api/executions").json()["count"] == 0


@pytest.mark.worker_thread
def test_list_filters_by_workflow_and_status(celery_worker, echo_workflow, slow_workflow, run, auth_client) -> None:
    run(echo_workflow, {"text": "a"})
    run(echo_workflow, {"text": "b"})
    run(slow_workflow, wait=None)
    listed = auth_client.get("/api/executions", {"workflow": echo_workflow}).json()
    assert listed["count"] == 2
    assert {e["outputs"]["result"] for e in listed["results"]} == {"a", "b"}
    assert auth_client.get("/api/executions", {"status": "completed", "workflow": echo_workflow}).json()["count"] == 2
    assert auth_client.get("/api/executions", {"status": "bogus"}).status_code == 400


def test_created_range_takes_any_valid_offset_and_refuses_times_out_of_range(echo_workflow, run, auth_client) -> None:
    run(echo_workflow, {"text": "a"}, wait=None)
    # An offset beyond PostgreSQL's ±15:59 is still a valid ISO 8601 time.
    assert auth_client.get("/api/executions", {"created_after": "2000-01-01T00:00:00-16:51"}).json()["count"] == 1
    assert auth_client.get("/api/executions", {"created_before": "0695-07-30T23:44:09-16:51"}).json()["count"] == 0
    out_of_range = [("created_before", "9999-12-31T23:00:00-05:00"), ("created_after", "0001-01-01T00:00:00+05:00")]
    for field, value in out_of_range:
        response = auth_client.get("/api/executions", {field: value})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert list(error["details"]) == [field]


@pytest.mark.parametrize("key", ["k" * 256, "order\u000042"], ids=["256 characters", "a NUL character"])
def test_an_idempotency_key_the_database_cannot_hold_is_a_400(echo_workflow, run, key) -> None:
    response = run(echo_workflow, {"text": "hi"}, wait=None, **{"Idempotency-Key": key})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["Idempotency-Key"]
    assert Execution.objects.count() == 0
    assert run(echo_workflow, {"text": "hi"}, wait=None, **{"Idempotency-Key": "k" * 255}).status_code == 202


def test_inputs_with_a_lone_surrogate_are_a_400_naming_the_field(echo_workflow, auth_client) -> None:
    # Lone surrogates cannot be encoded as UTF-8: sent as JSON escapes, as a client would.
    body = json.dumps({"workflow_id": echo_workflow, "inputs": {"text": "hi \ud800", "\udfff": 1}})
    response = auth_client.post("/api/executions", body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [problem["field"] for problem in error["details"]] == ["text", '["\\udfff"]', "\udfff"]
    assert Execution.objects.count() == 0


def test_inputs_with_a_number_too_large_for_json_are_a_400_naming_it(make_workflow, auth_client) -> None:
    # Valid JSON that Python reads as infinity, which no database stores.
    workflow_id = make_workflow(
        [input_node(n={"type": "number"}, data={"type": "object"}), node("result", "OUTPUT", {"value": "ok"})],
        [edge("start", "result")],
    )
    body = f'{{"workflow_id": "{workflow_id}", "inputs": {{"n": 1e400, "data": {{"x": [1, -1e999]}}}}}}'
    response = auth_client.post("/api/executions", body, content_type="application/json")
    assert response.status_code == 400
    problems = response.json()["error"]["details"]
    assert [problem["field"] for problem in problems] == ["n", "data.x[1]"]
    assert "finite" in problems[0]["message"]
    assert Execution.objects.count() == 0


@pytest.mark.parametrize("levels", [40, 900])
def test_inputs_nested_too_deep_are_a_400_naming_where(make_workflow, auth_client, levels) -> None:
    # 900: within what the JSON parser reads, beyond what the database's encoder can write.
    workflow_id = make_workflow(
        [input_node(o={"type": "object"}), node("result", "OUTPUT", {"value": "ok"})], [edge("start", "result")]
    )
    nested = '{"a": ' * levels + "1" + "}" * levels
    body = f'{{"workflow_id": "{workflow_id}", "inputs": {{"o": {nested}}}}}'
    response = auth_client.post("/api/executions", body, content_type="application/json")
    assert response.status_code == 400
    [problem] = response.json()["error"]["details"]
    assert problem["field"].startswith("o.a.a") and "deeper than the limit of 32" in problem["message"]
    assert Execution.objects.count() == 0


def test_the_schema_documents_reused_from_as_nullable(auth_client) -> None:
    schema = auth_client.get("/api/schema", {"format": "json"}).json()
    assert schema["components"]["schemas"]["NodeRunOutput"]["properties"]["reused_from"]["nullable"] is True
