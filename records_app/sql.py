"""SQL for record filters and sorts, one dialect per backend, with the same results.

Every condition is type-bracketed and never NULL (a missing field is simply false), so
`$ne` and `$nin` (NOT of a condition) also match records without the field, as in Mongo.
On SQLite JSON_TYPE / JSON_EXTRACT, on PostgreSQL jsonb's `#>` / `#>>` / jsonb_typeof;
text on PostgreSQL is compared under the "C" collation, i.e. by code point like SQLite.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import NotSupportedError
from django.db.models import BooleanField, Expression, F, FloatField, IntegerField, OrderBy, Q

from records_app.filters import COMPARISONS, Condition, Logical, RecordQueryError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models.expressions import Combinable

_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$eq": "="}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


class _Dialect:
    """SQL pieces for one backend; `col` is the quoted data column, `p` the path's placeholder."""

    def __init__(self, vendor: str, col: str, path: tuple[str, ...]):
        if vendor not in ("sqlite", "postgresql"):
            raise NotSupportedError("record collections run on SQLite and PostgreSQL")
        self.pg = vendor == "postgresql"
        if self.pg:
            self.type_sql = f"jsonb_typeof({col} #> %s::text[])"
            self.value_sql = f"({col} #> %s::text[])"
            self.number_sql = f"({col} #>> %s::text[])::numeric"
            self.text_sql = f'({col} #>> %s::text[]) COLLATE "C"'
            self.path_param: Any = list(path)
        else:
            self.type_sql = f"JSON_TYPE({col}, %s)"
            self.value_sql = f"JSON_EXTRACT({col}, %s)"
            self.number_sql = self.text_sql = self.value_sql
            self.path_param = "$" + "".join(f'."{segment}"' for segment in path)

    def is_kind(self, kind: str) -> tuple[str, list[Any]]:
        names = {
            "number": ("'number'",) if self.pg else ("'integer'", "'real'"),
            "string": ("'string'",) if self.pg else ("'text'",),
            "boolean": ("'boolean'",) if self.pg else ("'true'", "'false'"),
            "null": ("'null'",),
        }[kind]
        return f"{self.type_sql} IN ({', '.join(names)})", [self.path_param]

    def compare(self, op: str, values: list[Any]) -> tuple[str, list[Any]]:
        """`op` against values of one kind: "=" or a comparison with one value, "IN" with several."""
        kind = _kind(values[0])
        if kind == "null":
            return f"COALESCE({self.type_sql}, 'null') = 'null'", [self.path_param]
        if kind == "boolean" and not self.pg:
            wanted = ", ".join("'true'" if value else "'false'" for value in values)
            return f"{self.type_sql} IN ({wanted})", [self.path_param]
        type_sql, type_params = self.is_kind(kind)
        if kind == "string":
            left, params = self.text_sql, list(values)
        elif self.pg:  # numbers and booleans compare as jsonb: numerically, by value
            left, params = self.value_sql, [json.dumps(value) for value in values]
        else:
            left, params = self.value_sql, list(values)
        cast = "::jsonb" if self.pg and kind != "string" else ""
        placeholders = ", ".join(f"%s{cast}" for _ in values)
        right = f"({placeholders})" if op == "IN" else placeholders
        return f"({type_sql} AND {left} {op} {right})", [*type_params, self.path_param, *params]

    def exists(self) -> tuple[str, list[Any]]:
        return f"{self.type_sql} IS NOT NULL", [self.path_param]


class JsonCondition(Expression):
    """One condition on a path of the `data` column, as a boolean that is never NULL."""

    conditional = True

    def __init__(self, path: tuple[str, ...], op: str, value: Any):
        super().__init__(output_field=BooleanField())
        self.path, self.op, self.value = path, op, value
        self.column: Combinable | Expression = F("data")

    def get_source_expressions(self) -> list[Combinable | Expression]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Combinable | Expression]) -> None:
        (self.column,) = exprs

    # django-stubs type params as a tuple of str | int; Django takes any sequence of any
    # database values (these are lists, holding floats, None and PostgreSQL's text[] paths).
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        col, col_params = compiler.compile(self.column)
        if col_params:
            raise NotSupportedError("the data column takes no parameters")
        dialect = _Dialect(connection.vendor, col, self.path)
        if self.op == "$exists":
            sql, params = dialect.exists()
        elif self.op == "$in":
            sql, params = self._any_of(dialect)
        else:
            sql, params = dialect.compare(_SQL_OPS[self.op], [self.value])
        false = "false" if dialect.pg else "0"
        return f"COALESCE(({sql}), {false})", params

    def _any_of(self, dialect: _Dialect) -> tuple[str, list[Any]]:
        by_kind: dict[str, list[Any]] = {}
        for value in self.value:
            by_kind.setdefault(_kind(value), []).append(value)
        if not by_kind:
            return ("false" if dialect.pg else "0"), []
        parts: list[str] = []
        params: list[Any] = []
        for values in by_kind.values():
            sql, part_params = dialect.compare("IN", values)
            parts.append(sql)
            params.extend(part_params)
        return "(" + " OR ".join(parts) + ")", params


class JsonSortKey(Expression):
    """One of a sort field's three keys: its kind's rank, its number, its text."""

    def __init__(self, path: tuple[str, ...], part: str):
        super().__init__(output_field=IntegerField() if part == "rank" else FloatField())
        self.path, self.part = path, part
        self.column: Combinable | Expression = F("data")

    def get_source_expressions(self) -> list[Combinable | Expression]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Combinable | Expression]) -> None:
        (self.column,) = exprs

    # django-stubs type params as a tuple of str | int; Django takes any sequence of any
    # database values (these are lists, holding floats, None and PostgreSQL's text[] paths).
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        col, _ = compiler.compile(self.column)
        dialect = _Dialect(connection.vendor, col, self.path)
        if self.part == "number":
            kind_sql, params = dialect.is_kind("number")
            return f"CASE WHEN {kind_sql} THEN {dialect.number_sql} END", [*params, dialect.path_param]
        if self.part == "text":
            kind_sql, params = dialect.is_kind("string")
            return f"CASE WHEN {kind_sql} THEN {dialect.text_sql} END", [*params, dialect.path_param]
        # null or missing < numbers < strings < false < true < arrays < objects
        if dialect.pg:
            sql = (
                f"CASE {dialect.type_sql} WHEN 'number' THEN 1 WHEN 'string' THEN 2 "
                f"WHEN 'boolean' THEN (CASE WHEN {dialect.value_sql} = 'true'::jsonb THEN 4 ELSE 3 END) "
                "WHEN 'array' THEN 5 WHEN 'object' THEN 6 ELSE 0 END"
            )
            return sql, [dialect.path_param, dialect.path_param]
        sql = (
            f"CASE {dialect.type_sql} WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 "
            "WHEN 'false' THEN 3 WHEN 'true' THEN 4 WHEN 'array' THEN 5 WHEN 'object' THEN 6 ELSE 0 END"
        )
        return sql, [dialect.path_param]


def _id_value(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise RecordQueryError(f"id is a record's whole-number id; got {value!r}.")
    return int(value)


def _id_condition(condition: Condition) -> Q:
    op, value = condition.op, condition.value
    if op == "$exists":
        return Q(pk__isnull=not value)
    if op in ("$in", "$nin"):
        found = Q(pk__in=[_id_value(item) for item in value])
        return ~found if op == "$nin" else found
    lookup = {"$eq": "exact", "$ne": "exact", "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}[op]
    found = Q(**{f"pk__{lookup}": _id_value(value)})
    return ~found if op == "$ne" else found


def condition_q(condition: Condition) -> Q:
    if condition.path == ("id",):
        return _id_condition(condition)
    if condition.op == "$ne":
        return ~Q(JsonCondition(condition.path, "$eq", condition.value))
    if condition.op == "$nin":
        return ~Q(JsonCondition(condition.path, "$in", condition.value))
    if condition.op == "$exists" and condition.value is False:
        return ~Q(JsonCondition(condition.path, "$exists", True))
    if condition.op in COMPARISONS or condition.op in ("$eq", "$in", "$exists"):
        return Q(JsonCondition(condition.path, condition.op, condition.value))
    raise RecordQueryError(f"Unknown operator {condition.op}.")


def filter_q(tree: Logical) -> Q:
    """The Q of a parsed filter (records_app.filters.parse_filter)."""
    parts = [filter_q(part) if isinstance(part, Logical) else condition_q(part) for part in tree.parts]
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if tree.op == "$or" else combined & part
    return combined


def sort_order(sort: list[tuple[tuple[str, ...], int]]) -> list[OrderBy]:
    """ORDER BY terms for a parsed sort; ties (and no sort) go by id, i.e. insertion order."""
    order: list[OrderBy] = []
    for path, direction in sort:
        if path == ("id",):
            order.append(F("pk").desc() if direction == -1 else F("pk").asc())
            continue
        for part in ("rank", "number", "text"):
            order.append(OrderBy(JsonSortKey(path, part), descending=direction == -1))
    order.append(F("pk").asc())
    return order
