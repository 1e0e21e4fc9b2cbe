from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.support.definitions import edge, input_node, node
from tests.support.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def finished_counts(api: APIClient) -> dict[str, int]:
    return api.get("/api/dashboard/overview").json()["counters"]


@pytest.mark.worker_thread
def test_counters_move_as_executions_finish(celery_worker, auth_client, staff_client, divide_workflow, run) -> None:
    before = finished_counts(staff_client)
    assert run(divide_workflow, {"n": 2}).json()["status"] == "completed"
    assert run(divide_workflow, {"n": 5}).json()["status"] == "completed"
    failed = run(divide_workflow, {"n": 0}).json()
    assert failed["status"] == "failed"

    def moved() -> dict | None:
        after = finished_counts(staff_client)
        done = after.get("completed", 0) - before.get("completed", 0) == 2
        return after if done and after.get("failed", 0) - before.get("failed", 0) == 1 else None

    wait_for(moved, timeout=10)
    mine = auth_client.get("/api/dashboard/overview").json()
    assert mine["counters"] == {"completed": 2, "failed": 1}  # the owner's own counters


@pytest.mark.worker_thread
def test_overview_counts_the_last_hour_and_day(celery_worker, auth_client, divide_workflow, run) -> None:
    for n in (1, 2, 4, 0):
        run(divide_workflow, {"n": n})
    overview = auth_client.get("/api/dashboard/overview").json()

    assert overview["scope"] == "user"
    for window in ("last_hour", "last_day"):
        assert overview["executions"][window] == {
            "completed": 3,
            "failed": 1,
            "canceled": 0,
            "running": 0,
            "queued": 0,
            "total": 4,
        }
        assert overview["success_rate"][window] == 0.75
    assert overview["duration_ms"]["samples"] == 4
    assert 0 <= overview["duration_ms"]["p50"] <= overview["duration_ms"]["p95"]
    assert sum(overview["series"]["by_status"]["completed"]) == 3
    assert overview["series"]["by_status"]["failed"][-1] == 1  # this hour is the last slot
    assert len(overview["series"]["hours"]) == 24
    [failure] = overview["recent_failures"]
    assert failure["node_id"] == "divide"
    assert failure["workflow_name"] == "divide"
    assert failure["admin_url"] is None  # the admin is for staff
    assert set(overview["queues"]) == {"default", "nodes", "ai"}
    assert overview["unavailable"] == []


@pytest.mark.worker_thread
def test_workflows_report_runs_success_rate_and_mean_duration(celery_worker, auth_client, divide_workflow, run) -> None:
    for n in (1, 0, 0, 3):
        run(divide_workflow, {"n": n})
    [row] = auth_client.get("/api/dashboard/workflows").json()["results"]
    assert row["workflow_id"] == divide_workflow
    assert (row["runs"], row["completed"], row["failed"]) == (4, 2, 2)
    assert row["success_rate"] == 0.5
    assert row["mean_duration_ms"] is not None and row["mean_duration_ms"] >= 0


@pytest.mark.worker_thread
def test_users_see_their_own_numbers_and_staff_see_everyone(
    celery_worker, auth_client, staff_client, make_workflow, divide_workflow, run
) -> None:
    other = UserFactory()
    other_api = APIClient()
    other_api.force_authenticate(other)
    run(divide_workflow, {"n": 0})
    other_workflow = other_api.post(
        "/api/workflows",
        {"name": "theirs", "definition": _echo_definition()},
        format="json",
    ).json()["id"]
    other_api.post("/api/executions", {"workflow_id": other_workflow, "inputs": {}, "wait": 30}, format="json")

    mine = auth_client.get("/api/dashboard/overview").json()
    theirs = other_api.get("/api/dashboard/overview").json()
    everyone = staff_client.get("/api/dashboard/overview").json()
    assert mine["executions"]["last_day"]["total"] == 1
    assert theirs["executions"]["last_day"] == {**_zero(), "completed": 1, "total": 1}
    assert everyone["scope"] == "platform"
    assert everyone["executions"]["last_day"]["total"] == 2
    assert [f["owner"] for f in everyone["recent_failures"]] == [mine["recent_failures"][0]["owner"]]
    assert everyone["recent_failures"][0]["admin_url"].startswith("/admin/executions_app/execution/")
    assert theirs["recent_failures"] == []

    assert [w["name"] for w in other_api.get("/api/dashboard/workflows").json()["results"]] == ["theirs"]
    assert {w["name"] for w in staff_client.get("/api/dashboard/workflows").json()["results"]} == {"theirs", "divide"}


def test_dashboard_apis_need_a_login_and_accept_the_session(transactional_db) -> None:
    for path in ("overview", "workflows", "health", "metrics"):
        response = APIClient().get(f"/api/dashboard/{path}")
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"
    user = UserFactory()
    browser = Client()
    assert browser.login(username=user.username, password=DEFAULT_PASSWORD)
    assert browser.get("/api/dashboard/overview").json()["scope"] == "user"


def test_workflows_window_out_of_range_is_a_clear_400(auth_client: Any) -> None:
    for days in ("0", "91", "seven"):
        response = auth_client.get(f"/api/dashboard/workflows?days={days}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert "days" in response.json()["error"]["details"]
    schema = auth_client.get("/api/schema", {"format": "json"}).json()
    (days,) = schema["paths"]["/api/dashboard/workflows"]["get"]["parameters"]
    assert (days["schema"]["minimum"], days["schema"]["maximum"]) == (1, 90)


def _zero() -> dict[str, int]:
    return {"completed": 0, "failed": 0, "canceled": 0, "running": 0, "queued": 0}


def _echo_definition() -> dict:
    return {"nodes": [input_node(), node("result", "OUTPUT", {"value": "done"})], "edges": [edge("start", "result")]}
