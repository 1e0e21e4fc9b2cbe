"""The only filters expressions may use, each bounded by the result size cap."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from jinja2.runtime import Undefined

from workflows_app.expression_dates import DATE_FILTERS
from workflows_app.expression_lists import LIST_FILTERS, bounded_list
from workflows_app.expression_regex import REGEX_FILTERS
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
_WORD = re.compile(r"\w+")


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


def _split_parts(text: str, separator: str | None, maxsplit: int) -> Iterator[str]:
    """str.split's parts one at a time, so a huge split stops at the cap, not after it."""
    if separator is None:
        # Runs of whitespace separate; the rest after maxsplit is kept as it is, trailing
        # whitespace too, as str.split does.
        for splits, word in enumerate(re.finditer(r"\S+", text)):
            if maxsplit >= 0 and splits == maxsplit:
                yield text[word.start() :]
                return
            yield word.group(0)
        return
    position, splits = 0, 0
    while maxsplit < 0 or splits < maxsplit:
        found = text.find(separator, position)
        if found < 0:
            break
        yield text[position:found]
        position, splits = found + len(separator), splits + 1
    yield text[position:]


def _split(value: Any, separator: Any = None, maxsplit: Any = -1) -> list:
    """Text cut at separator (runs of whitespace by default), at most maxsplit times."""
    text = to_text(value)
    if separator is not None:
        separator = to_text(separator)
        if not separator:
            raise ExpressionError("split separator must not be empty")
    if not isinstance(maxsplit, int) or isinstance(maxsplit, bool):
        raise ExpressionError("split maxsplit must be an integer (-1: no limit)")
    return bounded_list(_split_parts(text, separator, maxsplit), "the split list")


def _wordcount(value: Any) -> int:
    """Words (runs of letters, digits and _), as Jinja counts them."""
    return sum(1 for _ in _WORD.finditer(to_text(value)))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


def _json_depth(value: Any) -> int:
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return depth


def _from_json(value: Any) -> Any:
    """JSON text as data, within the result cap and the definition's nesting limit."""
    if not isinstance(value, str):
        raise ExpressionError(f"from_json needs JSON text, not {describe(value)}")
    if text_size(value) > max_result_size():
        raise too_large("the JSON text")
    try:
        data = json.loads(value, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ExpressionError("from_json: the JSON nests too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN, a number of more than 4,300 digits
        raise ExpressionError(f"from_json: not valid JSON: {exc}") from None
    max_depth = settings.SWITCHBOARD.max_json_depth
    if _json_depth(data) > max_depth:
        raise ExpressionError(f"from_json: the JSON nests deeper than the limit of {max_depth}")
    return data


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
    "split": _split,
    "wordcount": _wordcount,
    "from_json": _from_json,
    **REGEX_FILTERS,
    **DATE_FILTERS,
    **LIST_FILTERS,
}
