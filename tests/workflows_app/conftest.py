"""The expression tests' context (their one-liners: tests/support/expressions.py)."""

from __future__ import annotations

import pytest

from workflows_app.expressions import expression_context


@pytest.fixture
def context() -> dict:
    return expression_context(
        inputs={"message": "Hello World", "count": 3, "tags": ["a", "b"], "price": 2.345, "missing_value": None},
        nodes={
            "mood": {"label": "negative", "score": 0.91, "json": {"items": ["x", "y"], "keys": 1}},
            "skipped": None,
            "x": {"values": [1, 2, 3], "nested": {"deep": {"value": 1}}},
        },
        secrets={"TOKEN": "s3cret"},
        execution_id="exec-1",
        workflow={"id": "wf-1", "name": "Triage", "version": 4},
    )
