"""Inputs of an execution, checked against the workflow's INPUT fields (docs/architecture.md, Execution semantics)."""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

from core.api import ValidationFailed
from core.json_text import format_path, text_problems, unstorable_problem
from workflows_app.expression_values import describe
from workflows_app.graph import Graph
from workflows_app.nodes.input import matches_type


def validate_inputs(graph: Graph, inputs: Any) -> dict:
    """The inputs checked against the INPUT fields, with defaults filled in; raises
    ValidationFailed listing every problem as {field, message}."""
    fields = graph.nodes[graph.input_node_id].node.config.fields
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise ValidationFailed(
            "The inputs must be an object.", details=[{"field": "inputs", "message": "must be an object"}]
        )
    problems = [
        {"field": format_path(loc), "message": message}
        for loc, message in text_problems(
            inputs, unstorable_problem, (), finite=True, max_depth=settings.SWITCHBOARD.max_json_depth
        )
    ]
    for name in inputs:
        if name not in fields:
            known = ", ".join(fields) or "none"
            problems.append({"field": name, "message": f"unknown input field (the fields are: {known})"})
    validated: dict[str, Any] = {}
    for name, field in fields.items():
        value = inputs.get(name)
        if value is None:
            if field.required:
                problems.append({"field": name, "message": "this field is required"})
            elif field.default is not None:
                validated[name] = copy.deepcopy(field.default)
            elif name in inputs:
                validated[name] = None
        elif not matches_type(value, field.type):
            problems.append({"field": name, "message": f"must be of type {field.type}, not {describe(value)}"})
        else:
            validated[name] = int(value) if field.type == "integer" else value
    if problems:
        raise ValidationFailed("The inputs do not match the workflow's INPUT fields.", details=problems)
    return validated
