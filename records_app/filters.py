"""Filters and sorts over record documents, the same on SQLite and PostgreSQL.

A filter is a Mongo-like object: `{"status": "open", "total": {"$gte": 10}, "customer.tier":
{"$in": ["gold", "silver"]}}`. Dotted paths reach into nested objects (path segments name
object keys; array positions are not addressed). `id` is the record's own id.

Comparisons are type-bracketed (a number is compared with numbers only, a string with
strings only) and strings compare by code point; SQLite and PostgreSQL disagree on both
when left to themselves (SQLite ranks any text above any number; PostgreSQL compares text
by the database's collation), so the SQL is written here per vendor (sql_json.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
MAX_PATH_SEGMENTS = 16
MAX_IN_VALUES = 1000
MAX_CONDITIONS = 200
COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
OPERATORS = ("$eq", "$ne", "$in", "$nin", "$exists", *COMPARISONS)
LOGICAL = ("$and", "$or")
Scalar = str | int | float | bool | None


class RecordQueryError(Exception):
    """A filter, sort, document or update a user wrote that cannot be used."""

    retryable = False

    def __init__(self, message: str, code: str = "invalid_filter"):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]  # ("id",) is the record id
    op: str  # one of OPERATORS
    value: Any


@dataclass(frozen=True)
class Logical:
    op: str  # "$and" | "$or"
    parts: tuple[Any, ...]  # Condition | Logical


def parse_path(path: Any, *, what: str = "filter") -> tuple[str, ...]:
    if not isinstance(path, str) or not path:
        raise RecordQueryError(f"A {what} field must be a non-empty string; got {path!r}.")
    segments = tuple(path.split("."))
    if len(segments) > MAX_PATH_SEGMENTS or not all(SEGMENT.match(segment) for segment in segments):
        raise RecordQueryError(
            f"The {what} field {path!r} is not a valid path: dot-separated names, each starting with a letter "
            "or _ and holding letters, digits, _ and -."
        )
    return segments


def _is_template(value: Any) -> bool:
    # At save time values may still be compiled templates; only their place is checked then.
    return type(value).__name__ == "Template"


def check_templated_values(spec: Any, rendered: Any, path: str = "filter") -> None:
    """Where the workflow wrote a template, the rendered filter holds a value, never an
    object: `{"id": "{{ nodes.api.output.id }}"}` must not become `{"id": {"$gte": 0}}`
    when the data says so, widening a delete to every record. Operators come from the
    workflow; data only fills in values (a list, for $in)."""
    if _is_template(spec):
        if isinstance(rendered, dict):
            raise RecordQueryError(
                f"{path}: the template gave an object; a filter's operators are written in the workflow, "
                "and data only fills in values."
            )
    elif isinstance(spec, dict) and isinstance(rendered, dict):
        for key, value in spec.items():
            check_templated_values(value, rendered.get(key), f"{path}.{key}")
    elif isinstance(spec, list) and isinstance(rendered, list):
        for index, (value, result) in enumerate(zip(spec, rendered, strict=False)):
            check_templated_values(value, result, f"{path}[{index}]")


# Integers outside this range have no column type on SQLite (and none on PostgreSQL's
# bigint): they compare as floats there, so a filter holding one is refused plainly.
_INT_RANGE = range(-(2**63), 2**63)


def _scalar(value: Any, op: str, path: str) -> Any:
    """The value, a Scalar; at save time it may also be a compiled template (not a Scalar),
    checked again once rendered."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE:
        raise RecordQueryError(f"{path}: {op} takes integers within ±2^63; write {value} as a float.")
    if _is_template(value) or value is None or isinstance(value, str | bool | int | float):
        return value
    raise RecordQueryError(f"{path}: {op} compares numbers, strings, booleans and null, not {type(value).__name__}.")


def _operand(path: tuple[str, ...], op: str, value: Any) -> Any:
    name = ".".join(path)
    if op == "$exists":
        if not isinstance(value, bool) and not _is_template(value):
            raise RecordQueryError(f"{name}: $exists takes true or false.")
        return value
    if op in ("$in", "$nin"):
        if _is_template(value):
            return value
        if not isinstance(value, list) or len(value) > MAX_IN_VALUES:
            raise RecordQueryError(f"{name}: {op} takes a list of at most {MAX_IN_VALUES} values.")
        return [_scalar(item, op, name) for item in value]
    value = _scalar(value, op, name)
    if op in COMPARISONS and (value is None or isinstance(value, bool)):
        raise RecordQueryError(f"{name}: {op} compares numbers or strings.")
    return value


def _field_conditions(path: tuple[str, ...], spec: Any) -> list[Condition]:
    if isinstance(spec, dict) and any(isinstance(key, str) and key.startswith("$") for key in spec):
        conditions = []
        for op, value in spec.items():
            if op not in OPERATORS:
                known = ", ".join(OPERATORS)
                raise RecordQueryError(f"{'.'.join(path)}: unknown operator {op!r}; operators are {known}.")
            conditions.append(Condition(path, op, _operand(path, op, value)))
        return conditions
    return [Condition(path, "$eq", _operand(path, "$eq", spec))]


def parse_filter(spec: Any, *, _count: list[int] | None = None) -> Logical:
    """The filter as a tree of conditions; raises RecordQueryError naming the problem."""
    count = _count if _count is not None else [0]
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise RecordQueryError("A filter is an object of field: value or field: {operator: value}.")
    parts: list[Any] = []
    for key, value in spec.items():
        if key in LOGICAL:
            if not isinstance(value, list) or not value:
                raise RecordQueryError(f"{key} takes a non-empty list of filters.")
            parts.append(Logical(key, tuple(parse_filter(item, _count=count) for item in value)))
        elif isinstance(key, str) and key.startswith("$"):
            raise RecordQueryError(f"Unknown operator {key!r} at the top of a filter; use $and or $or there.")
        else:
            parts.extend(_field_conditions(parse_path(key), value))
        count[0] += 1
        if count[0] > MAX_CONDITIONS:
            raise RecordQueryError(f"A filter has at most {MAX_CONDITIONS} conditions.")
    return Logical("$and", tuple(parts))


def parse_sort(spec: Any) -> list[tuple[tuple[str, ...], int]]:
    if spec is None:
        return []
    if not isinstance(spec, dict):
        raise RecordQueryError("sort is an object of field: 1 (ascending) or -1 (descending).", code="invalid_sort")
    parsed = []
    for key, direction in spec.items():
        if direction not in (1, -1) or isinstance(direction, bool):
            raise RecordQueryError(f"sort {key!r}: the direction is 1 or -1.", code="invalid_sort")
        parsed.append((parse_path(key, what="sort"), direction))
    return parsed
