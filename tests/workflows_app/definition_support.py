"""Helpers for the definition tests: the problems a definition is refused with."""

from __future__ import annotations

import pytest

from workflows_app.definition import DefinitionInvalid, parse_definition


def problems_of(definition) -> list[dict]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(definition)
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_definition"
    return caught.value.details


def assert_problem(definition, *, node_id, path, code) -> dict:
    problems = problems_of(definition)
    matching = [p for p in problems if (p["node_id"], p["path"], p["code"]) == (node_id, path, code)]
    assert matching, problems
    assert matching[0]["message"]
    return matching[0]


def node(definition: dict, node_id: str) -> dict:
    return next(n for n in definition["nodes"] if n["id"] == node_id)
