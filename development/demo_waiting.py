"""The demo's workflows that wait: a MAP that triages a batch of tickets by calling the
support-triage workflow once per ticket, and a refund that waits for the owner's approval
(docs/concepts/composition.md, docs/concepts/approvals.md)."""

from __future__ import annotations

from typing import Any

BATCH = "Triage a batch of tickets"
REFUND = "Refund with approval"

SAMPLE_TICKETS = [
    "My order arrived broken and nobody answers my emails. This is terrible!",
    "Thanks, the replacement came quickly.",
    "How do I change the delivery address of an open order?",
]


def batch_triage(triage_workflow_id: Any) -> dict:
    """INPUT `tickets` (a list of messages) → MAP over them, calling support triage with
    each as its `message`, four at a time, collecting each ticket's result or error."""
    return {
        "nodes": [
            {
                "id": "batch",
                "type": "INPUT",
                "config": {"fields": {"tickets": {"type": "array", "required": True}}},
            },
            {
                "id": "triage_each",
                "type": "MAP",
                "config": {
                    "items": "inputs.tickets",
                    "workflow_id": str(triage_workflow_id),
                    "inputs": {"message": "{{ item }}"},
                    "concurrency": 4,
                    "on_item_error": "collect",
                },
            },
            {"id": "results", "type": "OUTPUT", "config": {"value": "{{ nodes.triage_each.output }}"}},
        ],
        "edges": [{"source": "batch", "target": "triage_each"}, {"source": "triage_each", "target": "results"}],
    }


def refund_with_approval() -> dict:
    """A refund request waits (up to three days) for the owner's decision; the approver
    may correct the amount; a rejection takes the `false` branch and says so."""
    return {
        "timeout_s": 4 * 86400,
        "nodes": [
            {
                "id": "request",
                "type": "INPUT",
                "config": {
                    "fields": {
                        "customer": {"type": "string", "required": True},
                        "amount": {"type": "number", "required": True},
                    }
                },
            },
            {
                "id": "review",
                "type": "APPROVAL",
                "config": {
                    "message": "Refund {{ inputs.amount }} EUR to {{ inputs.customer }}?",
                    "data": {"amount": "{{ inputs.amount }}"},
                    "data_schema": {
                        "type": "object",
                        "properties": {"amount": {"type": "number", "minimum": 0}},
                        "required": ["amount"],
                    },
                    "on_reject": "branch",
                    "decision_timeout_s": 3 * 86400,
                    "default_decision": "reject",
                    "links": True,
                },
                "timeout_s": 4 * 86400,
            },
            {
                "id": "refunded",
                "type": "TRANSFORM",
                "config": {"value": "Refunded {{ nodes.review.output.data.amount }} EUR to {{ inputs.customer }}"},
            },
            {
                "id": "declined",
                "type": "TRANSFORM",
                "config": {"value": "Refund declined: {{ nodes.review.output.comment or 'no reason given' }}"},
            },
            {"id": "approved_result", "type": "OUTPUT", "config": {"value": "{{ nodes.refunded.output }}"}},
            {"id": "declined_result", "type": "OUTPUT", "config": {"value": "{{ nodes.declined.output }}"}},
        ],
        "edges": [
            {"source": "request", "target": "review"},
            {"source": "review", "target": "refunded", "branch": "true"},
            {"source": "review", "target": "declined", "branch": "false"},
            {"source": "refunded", "target": "approved_result"},
            {"source": "declined", "target": "declined_result"},
        ],
    }
