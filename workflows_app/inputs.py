"""Inputs of an execution, checked against the workflow's INPUT fields (DESIGN §6)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from config.api import ValidationFailed
from workflows_app.expression_values import describe
from workflows_app.graph import Graph
from workflows_app.nodes.input import matches_type
from workflows_app.problems import format_path

NUL_MESSAGE = "text may not contain the NUL character (\\u0000)"


def nul_paths(value: Any, at: tuple = ()) -> Iterator[tuple]:
    """The location of every string, keys included, that holds a NUL character, in
    document order. PostgreSQL cannot store NUL in jsonb or text: refused here, it is a
    400 naming the path instead of a DataError (a 500) at save time."""
    # Iterative, so deep JSON cannot exhaust the Python stack; each entry carries whether
    # its own key holds a NUL, so that key is reported in document order too.
    stack: list[tuple[Any, tuple, bool]] = [(value, at, False)]
    while stack:
        item, loc, bad_key = stack.pop()
        if bad_key or (isinstance(item, str) and "\x00" in item):
            yield loc
        if isinstance(item, dict):
            children = [(child, (*loc, key), isinstance(key, str) and "\x00" in key) for key, child in item.items()]
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(child, (*loc, index), False) for index, child in enumerate(item)]))


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
    problems = [{"field": format_path(loc), "message": NUL_MESSAGE} for loc in nul_paths(inputs)]
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
