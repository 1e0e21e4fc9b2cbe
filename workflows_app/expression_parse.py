"""Lexing, parsing, checking and compiling of template and expression source into Jinja code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from django.conf import settings
from jinja2 import nodes as ast
from jinja2.exceptions import TemplateSyntaxError
from jinja2.lexer import TokenStream
from jinja2.parser import Parser

from workflows_app.expression_filters import FILTERS
from workflows_app.expression_sandbox import build_environment
from workflows_app.expression_values import ExpressionError

__all__ = [
    "ENVIRONMENT",
    "ROOT_NAMES",
    "References",
    "check_tree",
    "compile_tree",
    "has_template",
    "parse_source",
    "switchboard_limit",
]

ROOT_NAMES = ("inputs", "nodes", "secrets", "execution", "workflow")
_TEMPLATE_MARKERS = ("{{", "{%", "{#")
_OPENING = {"(", "[", "{"}
_CLOSING = {")", "]", "}"}
ENVIRONMENT = build_environment()


def switchboard_limit(name: str) -> int:
    """One of the expression limits, by its field name (max_expression_chars)."""
    value: int = getattr(settings.SWITCHBOARD, name)
    return value


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
        max_chars, max_depth = switchboard_limit("max_expression_chars"), switchboard_limit("max_expression_depth")
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
            yield from ENVIRONMENT.lexer.tokeniter(self.source, None, None, self.state)
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


def parse_source(source: str, *, bare: bool) -> ast.Template:
    """Parses to a Jinja AST; a bare expression becomes `result = <expr>`."""
    tokens = _TrackedTokens(source, "variable" if bare else None)
    try:
        parser = Parser(ENVIRONMENT, "", state="variable" if bare else None)
        parser.stream = TokenStream(ENVIRONMENT.lexer.wrap(iter(tokens)), None, None)
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
    tree.set_environment(ENVIRONMENT)
    return tree


class References(NamedTuple):
    """The names a template reads by a fixed key: `nodes.<id>`, `secrets.<name>`, `inputs.<field>`."""

    nodes: frozenset[str]
    secrets: frozenset[str]
    inputs: frozenset[str]


def check_tree(tree: ast.Template, roots: tuple[str, ...] = ROOT_NAMES) -> References:
    """Refuses what the sandbox must never see and lists the referenced nodes, secrets and
    inputs. `roots` are the names the template may read (a trigger's templates see others
    than a node's). Walks iteratively: a deep tree is refused before anything recurses."""
    max_nodes, max_depth = switchboard_limit("max_expression_nodes"), switchboard_limit("max_expression_depth")
    node_refs: set[str] = set()
    secret_refs: set[str] = set()
    input_refs: set[str] = set()
    keyed_roots: set[int] = set()
    root_names: list[ast.Name] = []
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
        if isinstance(node, ast.Test) and node.name not in ENVIRONMENT.tests:
            raise ExpressionError(f"unknown test {node.name!r}", line=line)
        if isinstance(node, ast.Getattr | ast.Getitem):
            key = node.attr if isinstance(node, ast.Getattr) else getattr(node.arg, "value", None)
            if isinstance(key, str) and key.startswith("__"):
                raise ExpressionError(f"names starting with '__' are not allowed: {key!r}", line=line)
            if isinstance(node.node, ast.Name) and node.node.name in ("nodes", "secrets") and isinstance(key, str):
                (node_refs if node.node.name == "nodes" else secret_refs).add(key)
                keyed_roots.add(id(node.node))
            elif isinstance(node.node, ast.Name) and node.node.name == "inputs" and isinstance(key, str):
                input_refs.add(key)
        if isinstance(node, ast.Name) and node.ctx == "load":
            if node.name not in roots:
                raise ExpressionError(f"unknown name {node.name!r}; names are: {', '.join(roots)}", line=line)
            root_names.append(node)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    for name in root_names:
        if name.name in ("nodes", "secrets") and id(name) not in keyed_roots:
            example = "nodes.<id>.output" if name.name == "nodes" else "secrets.<name>"
            raise ExpressionError(f"refer to {name.name} by name, as {example}", line=name.lineno)
    return References(frozenset(node_refs), frozenset(secret_refs), frozenset(input_refs))


def compile_tree(tree: ast.Template) -> Any:
    try:
        return ENVIRONMENT.from_string(tree)
    except TemplateSyntaxError as exc:
        raise ExpressionError(exc.message or "the expression does not compile", line=exc.lineno) from None
    except RecursionError:
        raise ExpressionError("the expression nests too deeply") from None
