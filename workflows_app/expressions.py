"""Templates and expressions, compiled and evaluated for validation and the engine (docs/concepts/workflows.md).

- A *template* is a string that may hold `{{ expression }}` parts. A string that is exactly
  one `{{ expr }}` keeps the value's own type; any other string renders to text, with null
  as "", booleans as true/false and objects/lists as compact JSON.
- An *expression* is bare expression syntax (a CONDITION's `expression`); `{{ }}` around
  it is accepted and ignored.
- Names: `inputs`, `nodes.<id>.output`, `secrets.<name>`, `execution`, `workflow`. An
  undefined name or key is null (`""` in text); a skipped node's output is null.
- Everything is parsed once: compiled objects are cached by their source text.

The context is never changed by an evaluation: there is no assignment syntax, no call
(the sandbox refuses every one), attribute access reads keys only, and results are fresh
copies. That guarantee replaces a deep copy of the context per evaluation, whose cost
grows with every upstream output.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import nodes as ast

from workflows_app.expression_filters import FILTERS
from workflows_app.expression_parse import (
    ENVIRONMENT,
    ROOT_NAMES,
    References,
    check_tree,
    compile_tree,
    has_template,
    parse_source,
    switchboard_limit,
)
from workflows_app.expression_values import ExpressionError, SizeBudget, join_text, plain_result, to_text

NO_REFERENCES = References(frozenset(), frozenset(), frozenset())

__all__ = [
    "FILTERS",
    "ROOT_NAMES",
    "Expression",
    "ExpressionError",
    "Template",
    "compile_expression",
    "compile_template",
    "compile_value",
    "expression_context",
    "has_template",
    "render_value",
    "to_text",
]


def _run_for_value(compiled: Any, context: Mapping[str, Any], source: str) -> Any:
    try:
        jinja_context = compiled.new_context(dict(context))
        for _ in compiled.root_render_func(jinja_context):
            pass
        return plain_result(jinja_context.vars.get("result"))
    except ExpressionError:
        raise
    except Exception as exc:  # every runtime failure becomes one clear error
        raise ExpressionError(f"{_short(source)} failed: {exc}") from None


def _run_for_text(compiled: Any, context: Mapping[str, Any], source: str) -> str:
    try:
        # Joined as rendered (Template.render would join every part first): many parts,
        # each within the cap, stop as soon as their total passes it.
        return join_text(compiled.root_render_func(compiled.new_context(dict(context))), what="the text")
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(f"{_short(source)} failed: {exc}") from None


def _short(source: str) -> str:
    return repr(source if len(source) <= 80 else source[:77] + "...")


class Expression:
    """A compiled bare expression; `evaluate` returns its value as JSON data."""

    __slots__ = ("_compiled", "input_refs", "node_refs", "secret_refs", "source")

    def __init__(self, source: str, compiled: Any, refs: References):
        self.source, self._compiled = source, compiled
        self.node_refs, self.secret_refs, self.input_refs = refs

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        return _run_for_value(self._compiled, context, self.source)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class Template:
    """A compiled template string. `render` keeps the type of a lone `{{ expr }}`;
    `render_text` always gives text."""

    __slots__ = ("_compiled", "input_refs", "keeps_type", "node_refs", "secret_refs", "source")

    def __init__(self, source: str, compiled: Any = None, keeps_type: bool = False, refs: References = NO_REFERENCES):
        self.source, self._compiled, self.keeps_type = source, compiled, keeps_type
        self.node_refs, self.secret_refs, self.input_refs = refs

    def render(self, context: Mapping[str, Any]) -> Any:
        if self._compiled is None:
            return self.source
        if self.keeps_type:
            return _run_for_value(self._compiled, context, self.source)
        return _run_for_text(self._compiled, context, self.source)

    def render_text(self, context: Mapping[str, Any]) -> str:
        return to_text(self.render(context))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Parses and checks a bare expression once; raises ExpressionError with its position."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("the expression is empty")
    max_chars = switchboard_limit("max_expression_chars")
    if len(source) > max_chars:
        raise ExpressionError(f"the expression is longer than the limit of {max_chars} characters")
    stripped = source.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and "{{" not in stripped[2:-2]:
        stripped = stripped[2:-2]
    tree = parse_source(stripped, bare=True)
    refs = check_tree(tree)  # before compiling: it refuses what the compiler must not see
    return Expression(source, compile_tree(tree), refs)


@lru_cache(maxsize=4096)
def compile_template(source: str, roots: tuple[str, ...] = ROOT_NAMES) -> Template:
    """Parses and checks a template string once; text without `{{` stays plain text.
    `roots`: the names it may read (a node's by default)."""
    if not has_template(source):
        return Template(source)
    tree = parse_source(source, bare=False)
    refs = check_tree(tree, roots)
    outputs = [node for node in tree.body if isinstance(node, ast.Output)]
    parts = [part for output in outputs for part in output.nodes]
    if len(parts) == 1 and not isinstance(parts[0], ast.TemplateData):
        # Exactly one {{ expr }}: evaluated for its value, not its text.
        value_tree = ast.Template([ast.Assign(ast.Name("result", "store"), parts[0])], lineno=1)
        value_tree.set_environment(ENVIRONMENT)
        return Template(source, compile_tree(value_tree), True, refs)
    return Template(source, compile_tree(tree), False, refs)


def compile_value(
    value: Any, at: tuple = (), roots: tuple[str, ...] = ROOT_NAMES
) -> tuple[Any, list[tuple[tuple, ExpressionError]]]:
    """Compiles every template string inside a JSON value. Returns the compiled value and
    every problem found, each with its location below `at`. `roots` as compile_template."""
    problems: list[tuple[tuple, ExpressionError]] = []

    def walk(item: Any, loc: tuple) -> Any:
        if isinstance(item, str):
            if not has_template(item):
                return item
            try:
                return compile_template(item, roots)
            except ExpressionError as exc:
                problems.append((loc, exc))
                return item
        if isinstance(item, dict):
            return {key: walk(child, (*loc, key)) for key, child in item.items()}
        if isinstance(item, list):
            return [walk(child, (*loc, index)) for index, child in enumerate(item)]
        return item

    return walk(value, at), problems


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Renders a compiled JSON value: templates are rendered, everything else is copied.
    The whole rendered value, not only each part, is within the result size cap."""
    return _render(value, context, SizeBudget("the rendered value"))


def _render(value: Any, context: Mapping[str, Any], budget: SizeBudget) -> Any:
    if isinstance(value, Mapping):
        rendered = {}
        for key, child in value.items():
            budget.spend(key)
            rendered[key] = _render(child, context, budget)
        return rendered
    if isinstance(value, list | tuple):
        return [_render(child, context, budget) for child in value]
    if isinstance(value, Template):
        value = value.render(context)
    elif isinstance(value, Expression):
        value = value.evaluate(context)
    elif isinstance(value, str) and has_template(value):
        value = compile_template(value).render(context)
    budget.spend(value)  # charged as each part is rendered: the first part past the cap stops it
    return value


def expression_context(
    *,
    inputs: Mapping[str, Any] | None = None,
    nodes: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    execution_id: str = "",
    workflow: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The names templates see; `nodes` maps each upstream node id to its output."""
    return {
        "inputs": inputs or {},
        "nodes": {node_id: {"output": output} for node_id, output in (nodes or {}).items()},
        "secrets": secrets or {},
        "execution": {"id": execution_id},
        "workflow": workflow or {},
    }
