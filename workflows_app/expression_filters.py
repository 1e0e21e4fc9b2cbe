"""The only filters expressions may use, each bounded by the result size cap."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jinja2.runtime import Undefined

from workflows_app.expression_values import (
    ExpressionError,
    compact_json,
    describe,
    join_text,
    max_result_size,
    text_size,
    to_text,
    too_large,
)

MAX_ROUND_PRECISION = 15
MAX_JSON_INDENT = 8


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    if value is None or isinstance(value, Undefined) or (boolean and not value):
        return default_value
    return value


def _length(value: Any) -> int:
    if value is None or isinstance(value, Undefined):
        return 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise ExpressionError(f"length needs text, a list or an object, not {describe(value)}")


def _lower(value: Any) -> str:
    return to_text(value).lower()


def _upper(value: Any) -> str:
    return to_text(value).upper()


def _trim(value: Any, chars: Any = None) -> str:
    return to_text(value).strip(None if chars is None else to_text(chars))


def _join(value: Any, separator: Any = "") -> str:
    if value is None or isinstance(value, Undefined):
        return ""
    if not isinstance(value, list | tuple):
        raise ExpressionError(f"join needs a list, not {describe(value)}")
    # A generator: items become text only while the running total is within the cap.
    return join_text((to_text(item) for item in value), to_text(separator))


def _json(value: Any, indent: Any = None) -> str:
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= MAX_JSON_INDENT):
        raise ExpressionError(f"json indent must be a number from 0 to {MAX_JSON_INDENT}")
    return compact_json(value, indent)


def _int(value: Any, default: Any = 0) -> Any:
    """Jinja's rules: text is parsed, floats are truncated, anything else is the default."""
    try:
        return int(value.strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default


def _float(value: Any, default: Any = 0.0) -> Any:
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return result if math.isfinite(result) else default


def _round(value: Any, precision: Any = 0, method: str = "common") -> Any:
    """Half away from zero ("common"), "ceil" or "floor"; precision 0 gives an integer."""
    if not _is_number(value):
        raise ExpressionError(f"round needs a number, not {describe(value)}")
    if not (isinstance(precision, int) and -MAX_ROUND_PRECISION <= precision <= MAX_ROUND_PRECISION):
        raise ExpressionError(
            f"round precision must be an integer from -{MAX_ROUND_PRECISION} to {MAX_ROUND_PRECISION}"
        )
    rounding = {"common": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}.get(method)
    if rounding is None:
        raise ExpressionError('round method must be "common", "ceil" or "floor"')
    try:
        rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-precision), rounding=rounding)
    except InvalidOperation:
        raise ExpressionError("round: the number is too large") from None
    return int(rounded) if precision <= 0 else float(rounded)


def _replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    text, old, new = to_text(value), to_text(old), to_text(new)
    if count is not None and not (isinstance(count, int) and not isinstance(count, bool)):
        raise ExpressionError("replace count must be an integer")
    occurrences = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    if text_size(text) + occurrences * (text_size(new) - text_size(old)) > max_result_size():
        raise too_large("the replaced text")
    return text.replace(old, new, -1 if count is None else count)


FILTERS = {
    "default": _default,
    "length": _length,
    "lower": _lower,
    "upper": _upper,
    "trim": _trim,
    "join": _join,
    "json": _json,
    "int": _int,
    "float": _float,
    "round": _round,
    "replace": _replace,
}
