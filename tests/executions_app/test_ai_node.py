"""AI_PROCESSOR nodes through the engine: real SDKs, the emulator over HTTP, a real worker."""

from __future__ import annotations

import time

import pytest

from ai_providers.registry import provider_names
from tests.support.ai_nodes import (
    ai_pipeline,
    ai_status,
    calls_by_provider,
    node_events,
    triage_workflow,
)
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id
from tests.support.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server, pytest.mark.worker_thread]


def test_support_triage_routes_each_task_type_to_its_primary(celery_worker, ai_settings, make_workflow, run) -> None:
    execution = run(triage_workflow(make_workflow), {"message": "This is terrible, I am angry and disappointed"}).json()
    assert execution["status"] == "completed", execution
    runs = nodes_by_id(execution)
    mood = runs["mood"]["output"]
    assert mood["label"] == "negative"
    assert mood["provider"] == "huggingface"
    assert mood["emulated"] is True
    apology = runs["apology"]["output"]
    assert apology["provider"] == "gemini"
    assert apology["usage"]["input_tokens"] > 0
    assert apology["fallback_used"] is False
    assert runs["thanks"]["status"] == "skipped"
    assert execution["outputs"]["result"]["mood"] == "negative"
    assert execution["outputs"]["result"]["reply"] == apology["text"]
    assert runs["apology"]["attempt_log"][0]["provider"] == "gemini"


def test_primary_failure_falls_back_within_the_same_attempt(
    celery_worker, ai_settings, emulator, make_workflow, run
) -> None:
    emulator.fault(provider="gemini", status=500)
    workflow_id = make_workflow(
        [
            input_node(),
            node("write", "AI_PROCESSOR", {"task_type": "content_generation", "prompt": "A haiku about queues"}),
            node("result", "OUTPUT", {"value": "{{ nodes.write.output.text }}"}),
        ],
        [edge("start", "write"), edge("write", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    write = nodes_by_id(execution)["write"]
    assert write["attempts"] == 1
    assert write["output"]["fallback_used"] is True
    assert write["output"]["provider"] == "openrouter"
    called = [(e["provider"], e.get("error_code")) for e in write["attempt_log"] if not e.get("skipped")]
    assert called[0][0] == "gemini"
    assert called[0][1]
    assert called[-1] == ("openrouter", None)


def test_whole_chain_down_retries_after_its_countdown_then_fails_listing_every_attempt(
    celery_worker, ai_settings, emulator, make_workflow, run, auth_client
) -> None:
    ai_settings["ALL_DOWN_RETRY_S"] = 1.0  # what the chain asks for when no vendor says when
    emulator.fault(provider="gemini", status=503)
    emulator.fault(provider="openrouter", status=503)
    workflow_id = make_workflow(
        [
            input_node(),
            node(
                "write",
                "AI_PROCESSOR",
                {"task_type": "content_generation", "prompt": "hello"},
                retry={"max_attempts": 2, "backoff_s": 0.1, "max_backoff_s": 0.2},
            ),
            node("result", "OUTPUT", {"value": "{{ nodes.write.output.text }}"}),
        ],
        [edge("start", "write"), edge("write", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "failed", execution
    write = nodes_by_id(execution)["write"]
    assert write["status"] == "failed"
    assert write["attempts"] == 2
    assert write["error"]["code"] == "ai_providers_unavailable"
    assert [(e["n"], e["provider"], e.get("error_code")) for e in write["attempt_log"]] == [
        (1, "gemini", "server_error"),
        (1, "openrouter", "server_error"),
        (2, "gemini", "server_error"),
        (2, "openrouter", "server_error"),
    ]
    assert (emulator.calls("gemini"), emulator.calls("openrouter")) == (2, 2)

    # The retry went back to the broker with the chain's countdown (not the node's 0.1 s
    # backoff), and the second claim came no sooner than that countdown.
    write_events = [e for e in node_events(auth_client, execution["id"]) if e["node_id"] == "write"]
    claims = [e for e in write_events if e["status"] == "running"]
    retries = [e for e in write_events if e["status"] == "pending" and "retry_in_s" in e]
    assert [e["attempt"] for e in claims] == [1, 2]
    assert [e["retry_in_s"] for e in retries] == [ai_settings["ALL_DOWN_RETRY_S"]]
    assert claims[1]["at"] - claims[0]["at"] >= retries[0]["retry_in_s"]


def test_a_slow_chain_fails_the_node_at_its_timeout_not_after_every_provider(
    celery_worker, ai_settings, emulator, make_workflow, run
) -> None:
    ai_settings["TIMEOUT_S"] = 2.0  # per call: the whole chain would take 4 s
    emulator.fault(provider="gemini", latency_ms=3000)
    emulator.fault(provider="openrouter", latency_ms=3000)
    workflow_id = make_workflow(
        [
            input_node(),
            node(
                "write",
                "AI_PROCESSOR",
                {"task_type": "content_generation", "prompt": "hello"},
                timeout_s=1,
                retry={"max_attempts": 1},
            ),
            node("result", "OUTPUT", {"value": "{{ nodes.write.output.text }}"}),
        ],
        [edge("start", "write"), edge("write", "result")],
    )
    provider_names()  # the SDK imports (once per process) stay outside the node's second
    started = time.monotonic()
    execution = run(workflow_id).json()
    elapsed = time.monotonic() - started
    assert execution["status"] == "failed", execution
    write = nodes_by_id(execution)["write"]
    assert write["error"]["code"] == "node_timeout"
    assert [(e["provider"], e.get("error_code")) for e in write["attempt_log"]] == [("gemini", "timeout")]
    assert emulator.calls("openrouter") == 0
    assert elapsed < 3.5  # about the node's 1 s (plus the engine's own work), not the chain's 4 s


def test_a_primary_whose_quota_is_spent_is_skipped_without_a_call_and_the_backup_answers(
    celery_worker, ai_settings, emulator, make_workflow, run, auth_client
) -> None:
    ai_settings["PROVIDERS"]["gemini"]["quotas"]["rpd"] = 1  # the day's window: no minute boundary to race
    workflow_id = ai_pipeline(
        make_workflow,
        {
            "draft": {"task_type": "content_generation", "prompt": "Draft a note about {{ inputs.topic }}"},
            "polish": {"task_type": "content_generation", "prompt": "Polish: {{ nodes.draft.output.text }}"},
        },
    )
    execution = run(workflow_id, {"topic": "queues"}).json()
    assert execution["status"] == "completed", execution
    runs = nodes_by_id(execution)
    assert runs["draft"]["output"]["provider"] == "gemini"
    assert runs["polish"]["output"]["provider"] == "openrouter"
    assert runs["polish"]["output"]["fallback_used"] is True
    assert calls_by_provider(execution, "polish") == [("gemini", "quota_rpd", True), ("openrouter", None, False)]
    assert emulator.calls("gemini") == 1  # skipped before any request went out
    gemini = ai_status(auth_client)["gemini"]
    assert gemini["quota_left"]["rpd"] == 0
    assert gemini["skipped"] == {"quota_rpd": 1}


def test_an_open_circuit_keeps_calls_off_the_primary_until_its_cooldown(
    celery_worker, ai_settings, emulator, make_workflow, run, auth_client
) -> None:
    ai_settings.update(BREAKER_THRESHOLD=2, BREAKER_COOLDOWN_S=2.0)
    emulator.fault(provider="gemini", status=500)
    write = {"task_type": "content_generation", "prompt": "Write about {{ inputs.topic }}"}
    three = ai_pipeline(make_workflow, {"a": write, "b": write, "c": write})
    execution = run(three, {"topic": "circuits"}).json()
    assert execution["status"] == "completed", execution
    assert calls_by_provider(execution, "a") == [("gemini", "server_error", False), ("openrouter", None, False)]
    assert calls_by_provider(execution, "b") == [("gemini", "server_error", False), ("openrouter", None, False)]
    assert calls_by_provider(execution, "c") == [("gemini", "circuit_open", True), ("openrouter", None, False)]
    assert emulator.calls("gemini") == 2
    assert ai_status(auth_client)["gemini"]["circuits"]["gemini-2.5-flash"] == "open"

    # Gemini is healthy again, but until the cooldown ends nobody asks it.
    emulator.clear_faults()
    one = ai_pipeline(make_workflow, {"write": write})
    execution = run(one, {"topic": "circuits"}).json()
    assert calls_by_provider(execution, "write") == [("gemini", "circuit_open", True), ("openrouter", None, False)]
    assert emulator.calls("gemini") == 2

    wait_for(
        lambda: ai_status(auth_client)["gemini"]["circuits"]["gemini-2.5-flash"] != "open", timeout=10, interval=0.1
    )
    execution = run(one, {"topic": "circuits"}).json()
    assert calls_by_provider(execution, "write") == [("gemini", None, False)]  # the probe answered
    assert emulator.calls("gemini") == 3
    assert ai_status(auth_client)["gemini"]["circuits"]["gemini-2.5-flash"] == "closed"


def test_a_user_past_their_daily_ai_calls_gets_a_node_error_saying_so(
    celery_worker, ai_settings, emulator, make_workflow, run
) -> None:
    ai_settings["USER_CALLS_PER_DAY"] = 1
    workflow_id = ai_pipeline(
        make_workflow,
        {
            "mood": {"task_type": "sentiment_analysis", "prompt": "{{ inputs.topic }}"},
            "reply": {"task_type": "content_generation", "prompt": "Answer: {{ inputs.topic }}"},
        },
    )
    execution = run(workflow_id, {"topic": "The parcel is late and broken"}).json()
    assert execution["status"] == "failed", execution
    runs = nodes_by_id(execution)
    assert runs["mood"]["status"] == "completed"
    reply = runs["reply"]
    assert reply["status"] == "failed"
    assert reply["attempts"] == 1  # not retried: the quota resets tomorrow, not in a minute
    assert reply["error"]["code"] == "ai_user_quota_exceeded"
    assert "1 AI calls for today" in reply["error"]["message"]
    assert execution["error"]["node_id"] == "reply"
    assert execution["error"]["code"] == "ai_user_quota_exceeded"
    assert emulator.calls() == 1


def test_a_bad_request_fails_the_node_at_once_without_the_backup(
    celery_worker, ai_settings, emulator, make_workflow, run
) -> None:
    emulator.fault(provider="gemini", status=400, message="Invalid value at 'generation_config.temperature'")
    workflow_id = ai_pipeline(
        make_workflow,
        {"write": {"task_type": "content_generation", "prompt": "hello", "temperature": 1.9}},
        retry={"max_attempts": 3, "backoff_s": 0.1},
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "failed", execution
    write = nodes_by_id(execution)["write"]
    assert write["attempts"] == 1
    assert write["error"]["code"] == "bad_request"
    assert "generation_config.temperature" in write["error"]["message"]
    assert calls_by_provider(execution, "write") == [("gemini", "bad_request", False)]
    assert emulator.calls("openrouter") == 0
