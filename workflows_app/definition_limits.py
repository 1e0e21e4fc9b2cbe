"""The size, depth and count limits a workflow definition must be within before it is parsed."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from core.json_text import SURROGATE_MESSAGE, format_path, surrogate_paths
from workflows_app.expression_parse import has_template
from workflows_app.problems import DefinitionInvalid, single_problem

__all__ = ["check_definition_limits", "json_depth"]


def json_depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def template_count(value: Any) -> tuple[int, int]:
    """(how many strings hold a template, their characters), before any is compiled."""
    count = characters = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_template(item):
                count, characters = count + 1, characters + len(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count, characters


def check_definition_limits(definition: Any, *, count_templates: bool = True) -> None:
    limits = settings.SWITCHBOARD
    if not isinstance(definition, dict):
        raise DefinitionInvalid(
            [single_problem("", "invalid_type", "the definition must be an object with nodes and edges")]
        )
    if json_depth(definition) > limits.max_json_depth:
        raise DefinitionInvalid(
            [single_problem("", "too_deep", f"the definition nests deeper than {limits.max_json_depth}")]
        )
    try:
        size = len(json.dumps(definition, ensure_ascii=False, allow_nan=False).encode())
    except UnicodeEncodeError:  # a lone surrogate, which jsonb refuses as it does NUL
        problems = [
            single_problem(format_path(loc), "invalid_character", SURROGATE_MESSAGE)
            for loc in surrogate_paths(definition)
        ]
        raise DefinitionInvalid(problems) from None
    except (TypeError, ValueError):
        raise DefinitionInvalid([single_problem("", "invalid_type", "the definition must be plain JSON")]) from None
    if size > limits.max_definition_bytes:
        raise DefinitionInvalid(
            [single_problem("", "too_large", f"the definition is over {limits.max_definition_bytes} bytes")]
        )
    templates, characters = template_count(definition) if count_templates else (0, 0)
    if templates > limits.max_templates or characters > limits.max_template_chars:
        message = (
            f"the definition holds {templates} templates ({characters} characters); a workflow has at most "
            f"{limits.max_templates} templates and {limits.max_template_chars} characters of them"
        )
        raise DefinitionInvalid([single_problem("", "too_many_templates", message)])
    for key, limit, code in (
        ("nodes", limits.max_nodes, "too_many_nodes"),
        ("edges", limits.max_edges, "too_many_edges"),
    ):
        items = definition.get(key)
        if isinstance(items, list) and len(items) > limit:
            raise DefinitionInvalid([single_problem(key, code, f"a workflow has at most {limit} {key}")])
