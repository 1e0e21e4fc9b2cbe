"""The Jinja2 sandbox that templates and expressions run in (docs/concepts/workflows.md).

Only JSON data is reachable: attribute access reads dict keys and nothing else, so
`output.json.items` is the key `items` and no method of a data object can be reached,
let alone called. Calls are refused outright, filters are our own bounded versions, and
the operators that can grow a value (`**`, `*`, `+`, `%`, `~`) check the size of what
they would build before building it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workflows_app.expression_filters import FILTERS
from workflows_app.expression_values import (
    MAX_INT_DIGITS,
    ExpressionError,
    Missing,
    join_text,
    json_size,
    max_result_size,
    text_size,
    to_text,
    too_large,
)

# --- operators -------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _power(left: Any, right: Any) -> Any:
    growing = _is_number(left) and _is_number(right) and abs(left) > 1 and right > 0
    if growing and right * math.log10(abs(left)) > MAX_INT_DIGITS:
        raise ExpressionError(f"** result would have more than {MAX_INT_DIGITS} digits")
    result = left**right
    if isinstance(result, complex):
        raise ExpressionError("** result is not a real number")
    return result


def _size(sequence: str | list | tuple, limit: int) -> int:
    """Bytes of text, or of a list as JSON; counting stops once past limit."""
    return text_size(sequence) if isinstance(sequence, str) else json_size(sequence, limit)


def _repeated_size(sequence: str | list | tuple, limit: int) -> int:
    """Bytes one more copy adds to a repetition. A list is sized by what it holds, not by
    how many items: ['a' * 1000000] is one item of a megabyte."""
    if isinstance(sequence, str):
        return text_size(sequence)
    if not sequence:
        return 0
    return json_size(sequence, limit) - 1  # "[a,b]" repeated adds "a,b," per copy


def _multiply(left: Any, right: Any) -> Any:
    for sequence, times in ((left, right), (right, left)):
        repeats = isinstance(sequence, str | list | tuple) and isinstance(times, int) and not isinstance(times, bool)
        if repeats and times > 0:
            # Estimated from one copy, refused before anything is built.
            limit = max_result_size()
            if _repeated_size(sequence, limit) * times > limit:
                raise too_large("the repeated value")
    both_ints = isinstance(left, int) and isinstance(right, int)
    if both_ints and left.bit_length() + right.bit_length() > MAX_INT_DIGITS * 3.33:
        raise ExpressionError(f"* result would have more than {MAX_INT_DIGITS} digits")
    return left * right


def _add(left: Any, right: Any) -> Any:
    sequences = isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
    if sequences:
        limit = max_result_size()
        if _size(left, limit) + _size(right, limit) > limit:
            raise too_large("the joined value")
    return left + right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        # "%0999999999d" % 1 would build a gigabyte; text is joined with ~ instead.
        raise ExpressionError("% does not format text here; join text with ~")
    return left % right


_BINOPS = {"**": _power, "*": _multiply, "+": _add, "%": _modulo}


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Concat(self, node, frame) -> None:
        # `a ~ b` joins through the environment, which applies the text rules and the cap.
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class SafeEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(_BINOPS)
    code_generator_class = _BoundedCodeGenerator

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("calls are not allowed in expressions; use filters, e.g. x | lower")

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Data objects expose their keys only: never a method, never an attribute.
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping):
            try:
                return obj[argument]
            except (KeyError, TypeError):
                pass
        elif isinstance(obj, list | tuple | str) and (
            isinstance(argument, slice) or (isinstance(argument, int) and not isinstance(argument, bool))
        ):
            try:
                return obj[argument]
            except (IndexError, TypeError, ValueError):
                pass
        return self.undefined(obj=obj, name=argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return _BINOPS[operator](left, right)

    def bounded_concat(self, values: tuple) -> str:
        # A generator: each value becomes text only while the running total is within the cap.
        return join_text(to_text(value) for value in values)


def _finalize_text(value: Any) -> str:
    text = to_text(value)
    if text_size(text) > max_result_size():
        raise too_large("the text")
    return text


def _is_none(value: Any) -> bool:
    return value is None or isinstance(value, Missing)


def _divisible_by(value: Any, number: Any) -> bool:
    return _modulo(value, number) == 0


# Jinja's own `divisibleby`, `even` and `odd` compute `value % n` in plain Python, where
# `'%0999999999d' is even` builds a gigabyte: they go through the bounded `%` instead.
_BOUNDED_TESTS = {
    "divisibleby": _divisible_by,
    "even": lambda value: _divisible_by(value, 2),
    "odd": lambda value: _modulo(value, 2) == 1,
    "none": _is_none,
}


def build_environment() -> SafeEnvironment:
    env = SafeEnvironment(
        autoescape=False,
        optimized=False,  # nothing is computed at compile time, where no cap applies
        finalize=_finalize_text,
        undefined=Missing,
        keep_trailing_newline=True,
    )
    env.globals.clear()  # no range, cycler, joiner, namespace, lipsum
    env.filters = dict(FILTERS)
    env.tests = {**env.tests, **_BOUNDED_TESTS}
    return env
