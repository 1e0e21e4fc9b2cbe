"""What expression results may be: JSON data within the size cap, and the text rules
(null is "", booleans are true/false, objects and lists are compact JSON).

Sizes are UTF-8 bytes, measured before a value is built or counted while it is joined,
so a value far over the cap is refused after building at most about a cap's worth of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring
from typing import Any

from django.conf import settings
from jinja2.runtime import Undefined
from jinja2.utils import missing

from core.api import AppError

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
    return settings.SWITCHBOARD.max_result_bytes


def too_large(what: str) -> ExpressionError:
    return ExpressionError(f"{what} would be larger than the limit of {max_result_size()} bytes")


def text_size(text: str) -> int:
    """Bytes of text in UTF-8; ASCII text (the usual case) is measured without a copy."""
    # surrogatepass: JSON may carry lone surrogates, which strict UTF-8 refuses to encode.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class SizeBudget:
    """A running allowance of bytes shared by every part of one value, so parts that are
    each within the cap cannot add up past it."""

    def __init__(self, what: str):
        self.what, self.left = what, max_result_size()

    def spend(self, value: Any) -> None:
        """Charges value's JSON size plus one byte for the comma or colon beside it."""
        self.left -= json_size(value, self.left) + 1
        if self.left < 0:
            raise too_large(self.what)


class Missing(Undefined):
    """An undefined name or key: null where a value is kept, "" in text, and equal to
    null (`x == none`, `x is none`), as the rest of the product treats it."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, Undefined)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(None)

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


def json_size(value: Any, limit: int) -> int:
    """The UTF-8 size of value as compact JSON, measured without building it (integers
    are estimated from their bits). Stops once past limit: the answer is then just some
    number above it. A walk, not an encoder: a list may hold one 1 MB object a thousand
    times over, a gigabyte of JSON in a few kilobytes of memory."""
    size, stack = 0, [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            size += text_size(encode_basestring(item))  # with its quotes and escapes
        elif isinstance(item, Mapping):
            size += max(2, 1 + 2 * len(item))  # braces, colons and commas
            for key, child in item.items():
                size += text_size(encode_basestring(key if isinstance(key, str) else str(key)))
                if size > limit:
                    break
                stack.append(child)
        elif isinstance(item, list | tuple):
            size += max(2, 1 + len(item))  # brackets and commas
            if size <= limit:
                stack.extend(item)
        elif item is None or item is True or isinstance(item, Undefined):
            size += 4
        elif item is False:
            size += 5
        elif isinstance(item, int):
            size += item.bit_length() * 30103 // 100000 + 2  # log10(2) digits a bit, and a sign
        else:
            size += len(repr(item))
    return size


def join_text(parts: Iterable[str], separator: str = "", *, what: str = "the joined text") -> str:
    """The parts joined, refused as soon as the running size passes the cap (before the
    rest of the parts are even produced, when parts is a generator)."""
    limit, gap = max_result_size(), text_size(separator)
    kept: list[str] = []
    size = 0
    for part in parts:
        size += text_size(part) + (gap if kept else 0)
        if size > limit:
            raise too_large(what)
        kept.append(part)
    return separator.join(kept)


def compact_json(value: Any, indent: int | None = None) -> str:
    """value as JSON text, compact or indented; refused before it is built when it would
    pass the cap."""
    limit = max_result_size()
    if json_size(value, limit) > limit:
        raise too_large("the JSON text")
    try:
        if indent is None:
            # The size is known to be within the cap: built in one go by the C encoder.
            options: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False, "allow_nan": False}
            text = json.dumps(value, default=_json_default, **options)
        else:
            # Indentation grows with depth, not with the data: counted piece by piece.
            options = {"separators": (",", ": "), "indent": indent, "ensure_ascii": False, "allow_nan": False}
            text = join_text(json.JSONEncoder(default=_json_default, **options).iterencode(value), what="the JSON text")
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"the value is not valid JSON: {exc}") from None
    except RecursionError:
        raise ExpressionError("the value nests too deeply to be JSON") from None
    if text_size(text) > limit:  # integers were only estimated
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
        if isinstance(value, str) and text_size(value) > max_result_size():
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
