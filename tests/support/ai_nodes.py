"""What the AI node tests share: workflows of AI steps, and reads of what a run recorded."""

from __future__ import annotations

import json
from itertools import pairwise

from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id


def ai_pipeline(make_workflow, steps: dict[str, dict], **node_extra: object) -> str:
    """start -> each AI_PROCESSOR step in turn -> an OUTPUT of the last step's text."""
    ids = list(steps)
    nodes = [
        input_node(topic={"type": "string"}),
        *(node(i, "AI_PROCESSOR", c, **node_extra) for i, c in steps.items()),
    ]
    nodes.append(node("result", "OUTPUT", {"value": f"{{{{ nodes.{ids[-1]}.output.text }}}}"}))
    chain = ["start", *ids, "result"]
    return make_workflow(nodes, [edge(a, b) for a, b in pairwise(chain)])


def calls_by_provider(execution: dict, node_id: str) -> list[tuple[str, str | None, bool]]:
    """(provider, error_code, skipped) per line of a node run's attempt_log."""
    log = nodes_by_id(execution)[node_id]["attempt_log"]
    return [(e["provider"], e.get("error_code"), e.get("skipped", False)) for e in log]


def ai_status(client) -> dict[str, dict]:
    """GET /api/dashboard/ai-status, by provider: circuits, quota left, today's counters."""
    response = client.get("/api/dashboard/ai-status")
    assert response.status_code == 200, response.content
    return {p["provider"]: p for p in response.json()["providers"]}


def node_events(client, execution_id: str) -> list[dict]:
    """The node events of GET /api/executions/{id}/events, in order (the execution has ended)."""
    response = client.get(f"/api/executions/{execution_id}/events", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    found = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    return [e for e in found if e["kind"] == "node"]


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
