from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(**headers: str) -> dict[str, Any]:
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def sample(families: dict[str, Any], name: str, **labels: str) -> float:
    family_name = name.removesuffix("_total").removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
    for s in families[family_name].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"no sample {name} {labels}")


@pytest.mark.server
@pytest.mark.worker_thread
def test_metrics_parse_and_carry_every_series(celery_worker, ai_settings, divide_workflow, run) -> None:
    before = scrape()
    completed_before = sample(before, "switchboard_executions_total", status="completed")
    histogram_before = sample(before, "switchboard_execution_duration_seconds_count")
    run(divide_workflow, {"n": 2})
    run(divide_workflow, {"n": 0})

    families = wait_for(
        lambda: (
            (f := scrape())
            and sample(f, "switchboard_executions_total", status="completed") == completed_before + 1
            and f
        )
    )
    assert sample(families, "switchboard_execution_duration_seconds_count") == histogram_before + 2
    assert sample(families, "switchboard_execution_duration_seconds_bucket", le="+Inf") == histogram_before + 2
    assert sample(families, "switchboard_executions_active", status="running") == 0
    assert sample(families, "switchboard_node_runs_last_day", type="TRANSFORM", status="failed") == 1
    assert sample(families, "switchboard_node_runs_last_day", type="TRANSFORM", status="completed") == 1
    assert sample(families, "switchboard_node_runs_last_day", type="OUTPUT", status="canceled") == 1
    for queue in ("default", "nodes", "ai"):
        assert sample(families, "switchboard_queue_depth", queue=queue) >= 0
    assert "switchboard_workers_online" in families
    assert sample(families, "switchboard_ai_provider_configured", provider="groq") == 1
    assert sample(families, "switchboard_ai_calls_total", provider="groq") >= 0
    assert sample(families, "switchboard_ai_circuit_state", provider="groq", state="closed") == 1
    for source in ("counters", "database", "broker", "workers", "providers"):
        assert sample(families, "switchboard_scrape_error", source=source) == 0


def test_an_execution_canceled_before_it_ran_is_counted_but_not_timed(divide_workflow, run, auth_client) -> None:
    """No worker runs here: it never started, so it has no duration to put in a bucket."""
    before = scrape()
    canceled_before = sample(before, "switchboard_executions_total", status="canceled")
    timed_before = sample(before, "switchboard_execution_duration_seconds_count")
    execution_id = run(divide_workflow, {"n": 2}, wait=None).json()["id"]

    assert auth_client.post(f"/api/executions/{execution_id}/cancel").json()["status"] == "canceled"

    after = wait_for(
        lambda: (f := scrape()) and sample(f, "switchboard_executions_total", status="canceled") > canceled_before and f
    )
    assert sample(after, "switchboard_execution_duration_seconds_count") == timed_before


@pytest.mark.server
@pytest.mark.worker_thread
def test_provider_calls_tokens_and_cost_reach_the_scrape(celery_worker, ai_settings, make_workflow, run) -> None:
    from tests.support.definitions import edge, input_node, node

    workflow = make_workflow(
        [
            input_node(),
            node(
                "ask", "AI_PROCESSOR", {"task_type": "quick_decision", "prompt": "yes or no?", "providers": ["groq/m1"]}
            ),
            node("result", "OUTPUT", {"value": "{{ nodes.ask.output.text }}"}),
        ],
        [edge("start", "ask"), edge("ask", "result")],
    )
    assert run(workflow).json()["status"] == "completed"
    families = scrape()
    assert sample(families, "switchboard_ai_calls_total", provider="groq") == 1
    assert sample(families, "switchboard_ai_tokens_total", provider="groq", direction="output") > 0
    assert sample(families, "switchboard_ai_latency_ms", provider="groq", quantile="0.5") >= 0


def test_metrics_token_guards_the_scrape_when_set(settings, transactional_db) -> None:
    settings.SWITCHBOARD_METRICS_TOKEN = "scrape-secret-123"
    refused = Client().get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "switchboard_executions" in scrape(Authorization="Bearer scrape-secret-123")


def test_a_redis_outage_is_reported_in_the_scrape_not_a_500(settings, transactional_db) -> None:
    from development import embedded_redis

    settings.CACHE_REDIS_URL = f"redis://127.0.0.1:{embedded_redis.free_port()}/0"  # nothing listens there
    families = scrape()
    assert sample(families, "switchboard_scrape_error", source="counters") == 1
    assert sample(families, "switchboard_scrape_error", source="workers") == 1
    assert sample(families, "switchboard_scrape_error", source="database") == 0
    assert "switchboard_executions_active" in families


@pytest.mark.worker_thread
def test_metrics_json_is_scoped_to_the_user(celery_worker, auth_client, staff_client, divide_workflow, run) -> None:
    run(divide_workflow, {"n": 0})
    mine = auth_client.get("/api/dashboard/metrics").json()
    assert mine["scope"] == "user"
    names = {family["name"] for family in mine["families"]}
    assert {"switchboard_executions", "switchboard_node_runs_last_day", "switchboard_queue_depth"} <= names
    assert "switchboard_execution_duration_seconds" not in names  # kept for the platform only
    node_runs = next(f for f in mine["families"] if f["name"] == "switchboard_node_runs_last_day")
    failed = [s for s in node_runs["samples"] if s["labels"] == {"type": "TRANSFORM", "status": "failed"}]
    assert failed[0]["value"] == 1
    everyone = staff_client.get("/api/dashboard/metrics").json()
    assert everyone["scope"] == "platform"
    assert "switchboard_execution_duration_seconds" in {family["name"] for family in everyone["families"]}
