"""Workflow definitions for tests: the builders (`node`, `edge`, `input_node`), two
ready-made definitions (the support triage example, the smallest echo), a lookup of a
node in a definition, and the problems a definition is refused with."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from workflows_app.definition import DefinitionInvalid, parse_definition


def node(node_id: str, node_type: str, config: dict | None = None, **extra: Any) -> dict:
    """One node; `extra` adds node-level fields beside the config (timeout_s, retry, ...)."""
    return {"id": node_id, "type": node_type, "config": config or {}, **extra}


def edge(source: str, target: str, branch: str | None = None) -> dict:
    found = {"source": source, "target": target}
    if branch is not None:
        found["branch"] = branch
    return found


def input_node(**fields: dict) -> dict:
    """The INPUT node `start` with these input fields."""
    return node("start", "INPUT", {"fields": fields})


def node_in(definition: dict, node_id: str) -> dict:
    """The node `node_id` of a definition (the dict itself, to change it in place)."""
    return next(n for n in definition["nodes"] if n["id"] == node_id)


# The example of docs/concepts/workflows.md.
SUPPORT_TRIAGE = {
    "nodes": [
        node("ticket", "INPUT", {"fields": {"message": {"type": "string", "required": True}}}),
        node("mood", "AI_PROCESSOR", {"task_type": "sentiment_analysis", "prompt": "{{ inputs.message }}"}),
        node("angry", "CONDITION", {"expression": "nodes.mood.output.label == 'negative'"}),
        node(
            "apology",
            "AI_PROCESSOR",
            {
                "task_type": "content_generation",
                "prompt": "Write a short apology for: {{ inputs.message }}",
                "temperature": 0.7,
            },
        ),
        node(
            "log",
            "DATABASE",
            {
                "operation": "insert",
                "collection": "tickets",
                "document": {"text": "{{ inputs.message }}", "mood": "{{ nodes.mood.output.label }}"},
            },
        ),
        node(
            "result",
            "OUTPUT",
            {"value": {"mood": "{{ nodes.mood.output.label }}", "reply": "{{ nodes.apology.output.text }}"}},
        ),
    ],
    "edges": [
        edge("ticket", "mood"),
        edge("mood", "angry"),
        edge("angry", "apology", "true"),
        edge("angry", "log", "false"),
        edge("apology", "result"),
        edge("log", "result"),
    ],
}


def support_triage() -> dict:
    return copy.deepcopy(SUPPORT_TRIAGE)


def echo_definition(text: str = "{{ inputs.text }}") -> dict:
    """INPUT -> OUTPUT: the smallest valid workflow."""
    return {
        "nodes": [
            input_node(text={"type": "string", "required": True}),
            node("result", "OUTPUT", {"value": {"echo": text}}),
        ],
        "edges": [edge("start", "result")],
    }


def problems_of(definition: Any) -> list[dict]:
    """The problems parse_definition refuses the definition with (it must refuse it)."""
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(definition)
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_definition"
    return caught.value.details


def assert_problem(definition: Any, *, node_id: str | None, path: str, code: str) -> dict:
    problems = problems_of(definition)
    matching = [p for p in problems if (p["node_id"], p["path"], p["code"]) == (node_id, path, code)]
    assert matching, problems
    assert matching[0]["message"]
    return matching[0]
