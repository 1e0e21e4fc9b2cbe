"""MkDocs hook: replaces `<!-- node-types -->` in a page with a reference of every
registered node type (docstring, config fields, output schema), read from the registry."""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER = "<!-- node-types -->"
# The order a workflow reads in; types not listed follow, by name.
ORDER = ["INPUT", "TRANSFORM", "CONDITION", "AI_PROCESSOR", "HTTP_REQUEST", "DATABASE", "WAIT", "OUTPUT"]
ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("mkdocs.hooks.node_types")
_cache: str | None = None


def _registry() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SWITCHBOARD_DEVELOPMENT", "1")  # no SECRET_KEY needed to read code
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from workflows_app.nodes.base import node_types  # imports every module of the package

    return node_types()


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"] if s.get("type") != "null") or "null"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type")
    if kind == "array" and "items" in schema:
        return f"array of {_type(schema['items'])}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type(schema['additionalProperties'])}"
    return kind or "any JSON"


def _constraints(schema: dict[str, Any]) -> str:
    parts = [schema["description"]] if schema.get("description") else []
    for option in [schema, *schema.get("anyOf", [])]:
        if "enum" in option:
            parts.append("one of " + ", ".join(f"`{json.dumps(v)}`" for v in option["enum"]))
        for key, word in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
            if key in option:
                parts.append(f"{word} {option[key]}")
        for key in ("minItems", "maxItems", "maxLength"):
            if key in option:
                parts.append(f"{key} {option[key]}")
        if "pattern" in option:
            parts.append(f"pattern `{option['pattern']}`")
    return "; ".join(parts)


def _fields(schema: dict[str, Any]) -> list[str]:
    rows = ["| field | type | required | default | description |", "|---|---|---|---|---|"]
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        default = "" if name in required or "default" not in prop else f"`{json.dumps(prop['default'])}`"
        rows.append(
            f"| `{name}` | {_cell(_type(prop))} | {'yes' if name in required else 'no'} "
            f"| {_cell(default)} | {_cell(_constraints(prop))} |"
        )
    return rows if len(rows) > 2 else ["No config fields."]


def _docstring(cls: Any) -> str:
    text = inspect.getdoc(cls) or "(no docstring)"
    return re.sub(r"\s*\([^()]*§[^()]*\)", "", text)  # "(… §6)": notes on internal documents


def _node_type(name: str, cls: Any) -> str:
    lines = [f"### `{name}` {{ #{name.lower().replace('_', '-')} }}", "", _docstring(cls), ""]
    lines.append(f"Queue `{cls.queue}`; attempts by default {cls.default_max_attempts}.")
    if cls.secret_fields:
        lines[-1] += " `secrets.<name>` allowed in: " + ", ".join(f"`{f}`" for f in sorted(cls.secret_fields)) + "."
    try:
        config = cls.config_model.model_json_schema()
    except Exception as exc:  # a config the generator cannot describe is reported, not fatal here
        log.warning("node type %s: no config schema (%s)", name, exc)
        config = {}
    lines += ["", "**Config**", "", *_fields(config), ""]
    for def_name, definition in config.get("$defs", {}).items():
        lines += [f"`{def_name}`:", "", *_fields(definition), ""]
    output = json.dumps(cls.output_schema or {}, indent=2)
    lines += ["**Output schema**", "", "```json", output, "```", ""]
    return "\n".join(lines)


def reference() -> str:
    global _cache
    if _cache is None:  # built once per build
        types = _registry()
        names = sorted(types, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
        _cache = "\n".join(_node_type(name, types[name]) for name in names)
    return _cache


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if PLACEHOLDER not in markdown:
        return markdown
    return markdown.replace(PLACEHOLDER, reference())
