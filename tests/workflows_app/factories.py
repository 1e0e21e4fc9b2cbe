from __future__ import annotations

import copy
from typing import Any

import factory

from tests.accounts_app.factories import UserFactory
from workflows_app.models import Workflow
from workflows_app.services import workflow_create

# The example of DESIGN §5.
SUPPORT_TRIAGE = {
    "nodes": [
        {"id": "ticket", "type": "INPUT", "config": {"fields": {"message": {"type": "string", "required": True}}}},
        {
            "id": "mood",
            "type": "AI_PROCESSOR",
            "config": {"task_type": "sentiment_analysis", "prompt": "{{ inputs.message }}"},
        },
        {"id": "angry", "type": "CONDITION", "config": {"expression": "nodes.mood.output.label == 'negative'"}},
        {
            "id": "apology",
            "type": "AI_PROCESSOR",
            "config": {
                "task_type": "content_generation",
                "prompt": "Write a short apology for: {{ inputs.message }}",
                "temperature": 0.7,
            },
        },
        {
            "id": "log",
            "type": "DATABASE",
            "config": {
                "operation": "insert",
                "collection": "tickets",
                "document": {"text": "{{ inputs.message }}", "mood": "{{ nodes.mood.output.label }}"},
            },
        },
        {
            "id": "result",
            "type": "OUTPUT",
            "config": {"value": {"mood": "{{ nodes.mood.output.label }}", "reply": "{{ nodes.apology.output.text }}"}},
        },
    ],
    "edges": [
        {"source": "ticket", "target": "mood"},
        {"source": "mood", "target": "angry"},
        {"source": "angry", "target": "apology", "branch": "true"},
        {"source": "angry", "target": "log", "branch": "false"},
        {"source": "apology", "target": "result"},
        {"source": "log", "target": "result"},
    ],
}


def support_triage() -> dict:
    return copy.deepcopy(SUPPORT_TRIAGE)


def echo_definition(text: str = "{{ inputs.text }}") -> dict:
    """INPUT -> OUTPUT: the smallest valid workflow."""
    return {
        "nodes": [
            {"id": "start", "type": "INPUT", "config": {"fields": {"text": {"type": "string", "required": True}}}},
            {"id": "result", "type": "OUTPUT", "config": {"value": {"echo": text}}},
        ],
        "edges": [{"source": "start", "target": "result"}],
    }


class WorkflowFactory(factory.Factory):
    """Workflows are made by the service, as users make them (version 1 included)."""

    class Meta:
        model = Workflow

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"workflow {n}")
    description = ""
    is_active = True
    definition = factory.LazyFunction(echo_definition)

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Workflow:
        return workflow_create(**kwargs)

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Workflow:
        raise NotImplementedError("workflows are only created through workflow_create")
