"""Templates and expressions: one module, used by validation and by the engine (DESIGN §5).

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

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from jinja2 import nodes as ast
from jinja2.exceptions import TemplateSyntaxError
from jinja2.lexer import TokenStream
from jinja2.parser import Parser

from workflows_app.expression_filters import FILTERS
from workflows_app.expression_sandbox import build_environment
from workflows_app.expression_values import ExpressionError, SizeBudget, join_text, plain_result, to_text

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

ROOT_NAMES = ("inputs", "nodes", "secrets", "execution", "workflow")
_TEMPLATE_MARKERS = ("{{", "{%", "{#")
_OPENING = {"(", "[", "{"}
_CLOSING = {")", "]", "}"}
_ENV = build_environment()


def _limit(name: str) -> int:
    return settings.SWITCHBOARD[name]


def has_template(text: str) -> bool:
    return any(marker in text for marker in _TEMPLATE_MARKERS)


class _TrackedTokens:
    """The raw token stream for the parser: remembers where the last token was (for error
    positions), refuses `{% %}` blocks and enforces the size and bracket-depth caps while
    lexing, before the recursive parser sees anything."""

    def __init__(self, source: str, state: str | None):
        self.source, self.state = source, state
        self.cursor, self.line, self.column = 0, 1, 1

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        max_chars, max_depth = _limit("MAX_EXPRESSION_CHARS"), _limit("MAX_EXPRESSION_DEPTH")
        inside, chars, depth = self.state == "variable", 0, 0
        for lineno, kind, value in self._lexed():
            self._locate(lineno, value)
            if kind in ("block_begin", "raw_begin", "linestatement_begin"):
                raise self.error("{% %} blocks are not allowed; use {{ expression }}")
            if kind == "variable_begin":
                inside = True
            elif kind == "variable_end":
                inside = False
            elif inside:
                chars += len(value)
                if chars > max_chars:
                    raise self.error(f"expressions are longer than the limit of {max_chars} characters")
                if kind == "operator" and value in _OPENING:
                    depth += 1
                    if depth > max_depth:
                        raise self.error(f"brackets nest deeper than the limit of {max_depth}")
                elif kind == "operator" and value in _CLOSING:
                    depth -= 1
            yield lineno, kind, value

    def _lexed(self) -> Iterator[tuple[int, str, str]]:
        try:
            yield from _ENV.lexer.tokeniter(self.source, None, None, self.state)
        except TemplateSyntaxError as exc:
            # The lexer fails on the character after the last good token.
            rest = self.source[self.cursor :]
            self._locate(exc.lineno, rest.lstrip(" \t")[:1])
            raise self.error(exc.message or "syntax error") from None

    def _locate(self, lineno: int, value: str) -> None:
        found = self.source.find(value, self.cursor) if value else -1
        if found >= 0:
            self.cursor = found + len(value)
            self.column = found - self.source.rfind("\n", 0, found)
        self.line = lineno

    def error(self, message: str) -> ExpressionError:
        return ExpressionError(message, line=self.line, column=self.column)


def _parse(source: str, *, bare: bool) -> ast.Template:
    """Parses to a Jinja AST; a bare expression becomes `result = <expr>`."""
    tokens = _TrackedTokens(source, "variable" if bare else None)
    try:
        parser = Parser(_ENV, "", state="variable" if bare else None)
        parser.stream = TokenStream(_ENV.lexer.wrap(iter(tokens)), None, None)
        if bare:
            expression = parser.parse_expression()
            if parser.stream.current.type != "eof":
                raise tokens.error(f"unexpected {parser.stream.current.value!r} after the expression")
            tree = ast.Template([ast.Assign(ast.Name("result", "store"), expression)], lineno=1)
        else:
            tree = parser.parse()
    except TemplateSyntaxError as exc:
        raise tokens.error(exc.message or "syntax error") from None
    except RecursionError:
        raise tokens.error("the expression nests too deeply") from None
    tree.set_environment(_ENV)
    return tree


def _check(tree: ast.Template) -> tuple[frozenset[str], frozenset[str]]:
    """Refuses what the sandbox must never see and lists the referenced nodes and secrets.
    Walks iteratively: a deep tree is refused before anything recurses over it."""
    max_nodes, max_depth = _limit("MAX_EXPRESSION_NODES"), _limit("MAX_EXPRESSION_DEPTH")
    node_refs: set[str] = set()
    secret_refs: set[str] = set()
    keyed_roots: set[int] = set()
    roots: list[ast.Name] = []
    stack: list[tuple[ast.Node, int]] = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        line = getattr(node, "lineno", None)
        if count > max_nodes:
            raise ExpressionError(f"the expression has more than {max_nodes} parts", line=line)
        if depth > max_depth:
            raise ExpressionError(f"the expression nests deeper than the limit of {max_depth}", line=line)
        if isinstance(node, ast.Call):
            raise ExpressionError("calls are not allowed in expressions; use filters, e.g. x | lower", line=line)
        if isinstance(node, ast.Filter) and node.name not in FILTERS:
            raise ExpressionError(f"unknown filter {node.name!r}; filters are: {', '.join(FILTERS)}", line=line)
        if isinstance(node, ast.Test) and node.name not in _ENV.tests:
            raise ExpressionError(f"unknown test {node.name!r}", line=line)
        if isinstance(node, ast.Getattr | ast.Getitem):
            key = node.attr if isinstance(node, ast.Getattr) else getattr(node.arg, "value", None)
            if isinstance(key, str) and key.startswith("__"):
                raise ExpressionError(f"names starting with '__' are not allowed: {key!r}", line=line)
            if isinstance(node.node, ast.Name) and node.node.name in ("nodes", "secrets") and isinstance(key, str):
                (node_refs if node.node.name == "nodes" else secret_refs).add(key)
                keyed_roots.add(id(node.node))
        if isinstance(node, ast.Name) and node.ctx == "load":
            if node.name not in ROOT_NAMES:
                raise ExpressionError(f"unknown name {node.name!r}; names are: {', '.join(ROOT_NAMES)}", line=line)
            roots.append(node)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    for name in roots:
        if name.name in ("nodes", "secrets") and id(name) not in keyed_roots:
            example = "nodes.<id>.output" if name.name == "nodes" else "secrets.<name>"
            raise ExpressionError(f"refer to {name.name} by name, as {example}", line=name.lineno)
    return frozenset(node_refs), frozenset(secret_refs)


def _compile(tree: ast.Template) -> Any:
    try:
        return _ENV.from_string(tree)
    except TemplateSyntaxError as exc:
        raise ExpressionError(exc.message or "the expression does not compile", line=exc.lineno) from None
    except RecursionError:
        raise ExpressionError("the expression nests too deeply") from None


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

    __slots__ = ("_compiled", "node_refs", "secret_refs", "source")

    def __init__(self, source: str, compiled: Any, node_refs: frozenset[str], secret_refs: frozenset[str]):
        self.source, self._compiled = source, compiled
        self.node_refs, self.secret_refs = node_refs, secret_refs

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        return _run_for_value(self._compiled, context, self.source)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class Template:
    """A compiled template string. `render` keeps the type of a lone `{{ expr }}`;
    `render_text` always gives text."""

    __slots__ = ("_compiled", "keeps_type", "node_refs", "secret_refs", "source")

    def __init__(
        self,
        source: str,
        compiled: Any = None,
        keeps_type: bool = False,
        node_refs: frozenset[str] = frozenset(),
        secret_refs: frozenset[str] = frozenset(),
    ):
        self.source, self._compiled, self.keeps_type = source, compiled, keeps_type
        self.node_refs, self.secret_refs = node_refs, secret_refs

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
    if len(source) > _limit("MAX_EXPRESSION_CHARS"):
        raise ExpressionError(f"the expression is longer than the limit of {_limit('MAX_EXPRESSION_CHARS')} characters")
    stripped = source.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and "{{" not in stripped[2:-2]:
        stripped = stripped[2:-2]
    tree = _parse(stripped, bare=True)
    node_refs, secret_refs = _check(tree)
    return Expression(source, _compile(tree), node_refs, secret_refs)


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """Parses and checks a template string once; text without `{{` stays plain text."""
    if not has_template(source):
        return Template(source)
    tree = _parse(source, bare=False)
    node_refs, secret_refs = _check(tree)
    outputs = [node for node in tree.body if isinstance(node, ast.Output)]
    parts = [part for output in outputs for part in output.nodes]
    if len(parts) == 1 and not isinstance(parts[0], ast.TemplateData):
        # Exactly one {{ expr }}: evaluated for its value, not its text.
        value_tree = ast.Template([ast.Assign(ast.Name("result", "store"), parts[0])], lineno=1)
        value_tree.set_environment(_ENV)
        return Template(source, _compile(value_tree), True, node_refs, secret_refs)
    return Template(source, _compile(tree), False, node_refs, secret_refs)


def compile_value(value: Any, at: tuple = ()) -> tuple[Any, list[tuple[tuple, ExpressionError]]]:
    """Compiles every template string inside a JSON value. Returns the compiled value and
    every problem found, each with its location below `at`."""
    problems: list[tuple[tuple, ExpressionError]] = []

    def walk(item: Any, loc: tuple) -> Any:
        if isinstance(item, str):
            if not has_template(item):
                return item
            try:
                return compile_template(item)
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
