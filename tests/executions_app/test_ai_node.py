"""AI_PROCESSOR nodes through the engine: real SDKs, the emulator over HTTP, a real worker."""

from __future__ import annotations

import time

import pytest

from ai_providers.registry import provider_names
from tests.executions_app.conftest import edge, input_node, node, nodes_by_id

pytestmark = pytest.mark.django_db(transaction=True)


def triage_workflow(make_workflow) -> str:
    return make_workflow(
        [
            input_node(message={"type": "string", "required": True}),
            node("mood", "AI_PROCESSOR", {"task_type": "sentiment_analysis", "prompt": "{{ inputs.message }}"}),
            node("angry", "CONDITION", {"expression": "nodes.mood.output.label == 'negative'"}),
            node(
                "apology",
                "AI_PROCESSOR",
                {
                    "task_type": "content_generation",
                    "prompt": "Apologise for: {{ inputs.message }}",
                    "temperature": 0.7,
                },
            ),
            node("thanks", "TRANSFORM", {"value": "Thanks!"}),
            node(
                "result",
                "OUTPUT",
                {
                    "value": {
                        "mood": "{{ nodes.mood.output.label }}",
                        "reply": "{{ nodes.apology.output.text | default(nodes.thanks.output) }}",
                    }
                },
            ),
        ],
        [
            edge("start", "mood"),
            edge("mood", "angry"),
            edge("angry", "apology", "true"),
            edge("angry", "thanks", "false"),
            edge("apology", "result"),
            edge("thanks", "result"),
        ],
    )


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


def test_whole_chain_down_retries_then_fails_listing_every_attempt(
    celery_worker,
    ai_settings,
    emulator,
    make_workflow,
    run,
) -> None:
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
    claims = {entry["n"] for entry in write["attempt_log"]}
    assert claims == {1, 2}
    providers = {entry["provider"] for entry in write["attempt_log"]}
    assert {"gemini", "openrouter"} <= providers


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
