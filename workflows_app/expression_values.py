"""What expression results may be: JSON data within the size cap, and the text rules
(null is "", booleans are true/false, objects and lists are compact JSON)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from jinja2.runtime import Undefined
from jinja2.utils import missing

from config.api import AppError

# Python refuses to print integers above 4,300 digits; results must stay printable JSON.
MAX_INT_DIGITS = 4_000


class ExpressionError(AppError):
    """A template or expression that does not parse, breaks a limit or fails at run time."""

    status_code = 400
    code = "expression_error"
    message = "The expression could not be evaluated."

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        if line is not None:
            message = f"{message} (line {line}, column {column})" if column else f"{message} (line {line})"
        super().__init__(message)
        self.line, self.column = line, column


def max_result_size() -> int:
    return settings.SWITCHBOARD["MAX_RESULT_BYTES"]


def too_large(what: str) -> ExpressionError:
    return ExpressionError(f"{what} would be larger than the limit of {max_result_size()} characters")


class Missing(Undefined):
    """An undefined name or key: null where a value is kept, "" in text."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_obj is missing:
            return f"{self._undefined_name!r} is undefined"
        return f"{describe(self._undefined_obj)} has no key {self._undefined_name!r}"


def describe(value: Any) -> str:
    if value is None or isinstance(value, Undefined):
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _json_default(value: Any) -> Any:
    if isinstance(value, Undefined):
        return None
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{describe(value)} is not a JSON value")


def compact_json(value: Any, indent: int | None = None) -> str:
    try:
        separators = (",", ":") if indent is None else (",", ": ")
        text = json.dumps(
            value, separators=separators, indent=indent, ensure_ascii=False, allow_nan=False, default=_json_default
        )
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"the value is not valid JSON: {exc}") from None
    if len(text) > max_result_size():
        raise too_large("the JSON text")
    return text


def to_text(value: Any) -> str:
    """The text rendering rules: null is "", booleans are true/false, objects and lists
    are compact JSON, everything else is str()."""
    if value is None or isinstance(value, Undefined):
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | Mapping):
        return compact_json(value)
    return str(value)


def plain_result(value: Any) -> Any:
    """A result as plain JSON data within the size cap. Containers come back as fresh
    copies, so a result never shares objects with the context it was computed from."""
    if value is None or isinstance(value, Undefined):
        return None
    if isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > max_result_size():
            raise too_large("the result")
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_DIGITS * 3.33:
            raise too_large("the number")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("the result is not a finite number")
        return value
    if isinstance(value, list | tuple | Mapping):
        return json.loads(compact_json(value))
    raise ExpressionError(f"the result is {describe(value)}, not a JSON value")
