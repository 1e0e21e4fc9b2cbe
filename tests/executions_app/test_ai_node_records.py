"""What an AI node's run records: parsed JSON answers, tokens and cost per call, and no
provider key anywhere (outputs, node runs, events, logs)."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.ai_nodes import (
    ai_pipeline,
    ai_status,
    calls_by_provider,
    node_events,
)
from tests.support.definitions import edge, input_node, node
from tests.support.emulator import FAKE_KEYS
from tests.support.executions import nodes_by_id

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server, pytest.mark.worker_thread]


def test_json_answers_are_parsed_and_every_call_records_its_tokens_and_cost(
    celery_worker, ai_settings, emulator, make_workflow, run, auth_client
) -> None:
    workflow_id = make_workflow(
        [
            input_node(review={"type": "string", "required": True}),
            node(
                "extract",
                "AI_PROCESSOR",
                {
                    "task_type": "content_generation",
                    "prompt": "Give the review's sentiment as JSON: {{ inputs.review }}",
                    "response_format": "json",
                },
            ),
            node("total", "AI_PROCESSOR", {"task_type": "math_reasoning", "prompt": "What is 12 * 7?"}),
            node(
                "result",
                "OUTPUT",
                {
                    "value": {
                        "sentiment": "{{ nodes.extract.output.json.sentiment }}",
                        "sum": "{{ nodes.total.output.text }}",
                    }
                },
            ),
        ],
        [edge("start", "extract"), edge("extract", "total"), edge("total", "result")],
    )
    execution = run(workflow_id, {"review": "Great product, fast delivery, I love it"}).json()
    assert execution["status"] == "completed", execution
    runs = nodes_by_id(execution)
    extract, total = runs["extract"]["output"], runs["total"]["output"]
    assert extract["json"]["sentiment"] == "positive"
    assert extract["json"]["emulated"] is True
    assert execution["outputs"]["result"]["sentiment"] == "positive"
    assert total["text"].endswith("The answer is 84.")
    assert (total["provider"], total["model"]) == ("openrouter", "z-ai/glm-4.5-air")

    status = ai_status(auth_client)
    for output in (extract, total):
        usage = output["usage"]
        assert usage["input_tokens"] > 0
        assert usage["output_tokens"] > 0
        price_in, price_out = ai_settings["PRICES"][f"{output['provider']}/{output['model']}"]
        cost = (usage["input_tokens"] * price_in + usage["output_tokens"] * price_out) / 1_000_000
        assert output["cost_usd"] == pytest.approx(cost)
        counters = status[output["provider"]]
        assert counters["calls_by_model"] == {output["model"]: 1}
        assert (counters["input_tokens"], counters["output_tokens"]) == (usage["input_tokens"], usage["output_tokens"])
        assert counters["cost_usd"] == pytest.approx(cost, abs=1e-6)
        assert counters["cost_usd"] > 0


def test_no_provider_key_reaches_outputs_node_runs_events_or_logs(
    celery_worker, ai_settings, emulator, make_workflow, run, auth_client, caplog
) -> None:
    """Three vendors echo the caller's key in their error messages; the in-process worker
    logs through this process, so caplog holds the worker's log lines too."""
    caplog.set_level(logging.DEBUG)
    emulator.fault(provider="gemini", status=401, message=f"API key not valid: {FAKE_KEYS['gemini']}", times=1)
    emulator.fault(provider="groq", status=503, message=f"Overloaded (key {FAKE_KEYS['groq']})")
    hf_key = FAKE_KEYS["huggingface"]
    emulator.fault(provider="huggingface", status=400, message=f"Bad input. Authorization: Bearer {hf_key}")
    workflow_id = ai_pipeline(
        make_workflow,
        {
            "draft": {"task_type": "content_generation", "prompt": "Draft about {{ inputs.topic }}"},
            "decide": {"task_type": "quick_decision", "prompt": "Ship it? {{ nodes.draft.output.text }}"},
            "mood": {"task_type": "sentiment_analysis", "prompt": "{{ nodes.draft.output.text }}"},
        },
    )
    execution = run(workflow_id, {"topic": "secrets"}).json()
    assert execution["status"] == "failed", execution
    assert calls_by_provider(execution, "draft") == [("gemini", "auth_failed", False), ("openrouter", None, False)]
    assert calls_by_provider(execution, "decide") == [("groq", "server_error", False), ("gemini", None, False)]
    assert nodes_by_id(execution)["mood"]["error"]["code"] == "bad_request"
    assert "[redacted]" in nodes_by_id(execution)["mood"]["error"]["message"]
    assert "AI attempt" in caplog.text  # the worker's failures were logged here

    seen = [
        json.dumps(execution),
        auth_client.get(f"/api/executions/{execution['id']}").content.decode(),
        auth_client.get(f"/api/executions/{execution['id']}/logs").content.decode(),
        json.dumps(node_events(auth_client, execution["id"])),
        json.dumps(ai_status(auth_client)),
        caplog.text,
    ]
    for key in FAKE_KEYS.values():
        for text in seen:
            assert key not in text
            assert key[6:18] not in text  # not even a slice of it


def test_an_ai_node_says_running_once_per_run_before_its_result_whether_it_calls_or_is_cached(
    celery_worker, ai_settings, emulator, make_workflow, run, auth_client
) -> None:
    # A called node sends `running` with its first admission; a cached answer makes no
    # admission, so the engine sends `running` with the result. Either way: once, first.
    ai_settings["RESPONSE_CACHE_TTL_S"] = 60
    step = {"task_type": "content_generation", "prompt": "Name a queue", "temperature": 0}
    workflow_id = ai_pipeline(make_workflow, {"write": step})
    for cached in (False, True):
        execution = run(workflow_id, {"topic": "queues"}).json()
        assert execution["status"] == "completed", execution
        write = nodes_by_id(execution)["write"]
        assert bool(write["attempt_log"][0].get("cached")) is cached
        statuses = [e["status"] for e in node_events(auth_client, execution["id"]) if e["node_id"] == "write"]
        assert statuses == ["running", "completed"]
    assert emulator.calls("gemini") == 1
