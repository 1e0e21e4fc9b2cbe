"""AI_PROCESSOR alone: the completer gets the rendered request with the task type and the
run's bookkeeping; the node answers what the completer's result says."""

from __future__ import annotations

from typing import Any

from ai_providers.base import Completion, CompletionResult, Usage
from tests.support.node_ports import FakeAiCompleter, fake_ports, node_context
from workflows_app.nodes.base import Node, get_node_class

SENTIMENT = CompletionResult(
    text="negative",
    provider="groq",
    model="llama-test",
    usage=Usage(input_tokens=12, output_tokens=1),
    label="negative",
    score=0.93,
    latency_ms=40,
    cost_usd=0.00002,
)


def ai_processor(config: dict[str, Any]) -> Node:
    return get_node_class("AI_PROCESSOR").from_config("mood", config)


def test_the_completer_gets_the_rendered_prompt_and_system_and_the_task_type() -> None:
    completer = FakeAiCompleter(SENTIMENT)
    ctx = node_context(fake_ports(ai=completer), deadline=99.5, announce_start=lambda pipeline: None)
    config = {
        "task_type": "sentiment_analysis",
        "prompt": "How does this sound? {{ inputs.message }}",
        "system": "You triage tickets for {{ workflow.name }}.",
        "temperature": 0.2,
        "max_tokens": 20,
        "providers": ["groq/llama-test", "openrouter/qwen/qwen-2.5-72b-instruct"],
    }

    output = ai_processor(config).run(ctx)

    assert completer.calls == [
        {
            "task_type": "sentiment_analysis",
            "request": Completion(
                prompt="How does this sound? The parcel is late again",
                system="You triage tickets for Support triage.",
                temperature=0.2,
                max_tokens=20,
                response_format="text",
            ),
            "chain_override": ["groq/llama-test", "openrouter/qwen/qwen-2.5-72b-instruct"],
            "user_id": 7,
            "attempt_log": [],
            "deadline": 99.5,
            "announce": ctx.announce_start,
            "deferred": [],
        }
    ]
    call = completer.calls[0]
    # The run's own lists, for the completer to fill: each provider call, the bookkeeping for later.
    assert call["attempt_log"] is ctx.attempt_calls
    assert call["deferred"] is ctx.after_record
    assert output == SENTIMENT.as_output()
    assert output["label"] == "negative" and output["score"] == 0.93


def test_without_providers_or_system_the_task_types_chain_is_used() -> None:
    answer = CompletionResult(text='{"ok": true}', provider="gemini", model="gemini-2.5-flash", json={"ok": True})
    completer = FakeAiCompleter(answer)
    config = {"task_type": "content_generation", "prompt": "{{ inputs.count }} words", "response_format": "json"}

    output = ai_processor(config).run(node_context(fake_ports(ai=completer)))

    [call] = completer.calls
    assert call["chain_override"] is None
    assert call["request"] == Completion(prompt="2 words", system=None, response_format="json")
    assert output == answer.as_output()
    assert output["json"] == {"ok": True}


def test_a_worker_on_the_ai_queue_prepares_the_completer_once() -> None:
    completer = FakeAiCompleter(SENTIMENT)

    get_node_class("AI_PROCESSOR").prepare_worker(fake_ports(ai=completer))

    assert completer.prepared == 1
    assert completer.calls == []
