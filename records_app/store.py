"""A user's record collections: the DATABASE node's reads and writes.

Reads are selectors, run while the node runs. Writes are services the node hands to the
engine as a DeferredWrite, so they commit in the node run's completion transaction.

Update semantics: `update` is `{"$set": {path: value}, "$unset": [path, ...], "$inc":
{path: number}}`, or a plain object, which is a `$set` of its keys. `$set` merges: dotted
paths create the objects they pass through, other fields stay as they are.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast, Length
from django.utils import timezone

from core.json_text import LONE_SURROGATE_ESCAPE, format_path, nul_paths, surrogate_paths
from records_app.filters import RecordQueryError, parse_filter, parse_path, parse_sort
from records_app.models import Record
from records_app.sql import filter_q, sort_order

UPDATE_OPERATORS = ("$set", "$unset", "$inc")


def _collection(owner_id: Any, collection: str) -> QuerySet[Record]:
    # Every query starts here: one user's workflows never see another's records.
    if owner_id is None:
        raise RecordQueryError("The workflow has no owner.", code="invalid_collection")
    return Record.objects.filter(owner_id=owner_id, collection=collection)


def _matching(owner_id: Any, collection: str, filter_spec: Any) -> QuerySet[Record]:
    return _collection(owner_id, collection).filter(filter_q(parse_filter(filter_spec)))


def parse_filter_checked(filter_spec: Any) -> None:
    """Raises RecordQueryError when the rendered filter cannot be used (before a write is deferred)."""
    filter_q(parse_filter(filter_spec))


def as_output(record: Record) -> dict[str, Any]:
    return {"id": record.id, **record.data}


def check_document(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise RecordQueryError("A document is a JSON object.", code="invalid_document")
    if "id" in document:
        raise RecordQueryError('"id" is the record\'s own id; name the field differently.', code="invalid_document")
    try:
        encoded = json.dumps(document, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN, or a number too large ($inc past the float range): Infinity
        message = "The document holds NaN or Infinity, which JSON cannot represent."
        raise RecordQueryError(message, "invalid_document") from None
    # Rare: then the walk that names where (an emoji is a whole surrogate pair, not this).
    if "\\u0000" in encoded or ("\\ud" in encoded and LONE_SURROGATE_ESCAPE.search(encoded)):
        found = next(nul_paths(document), None) or next(surrogate_paths(document), None)
        if found is not None:
            where = format_path(found) or "the document"
            message = f"{where}: a NUL character or a lone surrogate, which the database cannot store."
            raise RecordQueryError(message, "invalid_document")
    size = len(encoded)
    limit = settings.SWITCHBOARD.record_max_bytes
    if size > limit:
        raise RecordQueryError(f"The document is {size} bytes; a record holds at most {limit}.", "record_too_large")
    return document


# --- selectors --------------------------------------------------------------------------------


# Around the ordered, limited query: each row's running size and its place, and no row
# that starts past the budget. The windows have no ORDER BY of their own, so they take the
# rows as the subquery sorted them (as PostgreSQL and SQLite do for a subquery scan); an
# ORDER BY here would make the database sort every match in full instead of keeping the
# top `limit` (a LIMIT under a window function is not pushed into the sort).
_WITHIN_BUDGET_SQL = (
    "SELECT id, data, stored_size, running FROM ("
    "SELECT ranked.*, SUM(stored_size) OVER (ROWS UNBOUNDED PRECEDING) AS running, ROW_NUMBER() OVER () AS position"
    " FROM ({ranked}) ranked"
    ") sized WHERE running - stored_size <= %s ORDER BY position"
)


def record_find(
    *, owner_id: Any, collection: str, filter: Any, sort: Any = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The matching records in order, at most `limit` (and RECORDS_MAX_FIND). The database
    stops sending once their text passes twice the node output limit: a thousand 256 KB
    records would otherwise be loaded into the worker only to fail the output check."""
    cap = settings.SWITCHBOARD.records_max_find
    limit = min(limit or cap, cap)
    budget = 2 * settings.SWITCHBOARD.max_node_output_bytes  # the output check is exact; this bounds memory
    ranked = (
        _matching(owner_id, collection, filter)
        .order_by(*sort_order(parse_sort(sort)))
        .annotate(stored_size=Length(Cast("data", TextField())))
        .values("id", "data", "stored_size")[:limit]
    )
    sql, params = ranked.query.sql_with_params()
    found: list[dict[str, Any]] = []
    for record in Record.objects.raw(_WITHIN_BUDGET_SQL.format(ranked=sql), [*params, budget]):
        if record.running > budget:  # type: ignore[attr-defined]  # a column of the raw SELECT, set by raw()
            raise RecordQueryError(
                f"The records found come to more than {budget} bytes after {len(found)} of them; a node's output "
                f"is at most {budget // 2}. Narrow the filter or lower `limit`.",
                "output_too_large",
            )
        found.append(as_output(record))
    return found


def record_find_one(*, owner_id: Any, collection: str, filter: Any, sort: Any = None) -> dict[str, Any] | None:
    found = record_find(owner_id=owner_id, collection=collection, filter=filter, sort=sort, limit=1)
    return found[0] if found else None


def record_count(*, owner_id: Any, collection: str, filter: Any) -> int:
    return _matching(owner_id, collection, filter).count()


# --- services (run inside the completion transaction) ------------------------------------------


def record_insert(*, owner_id: Any, collection: str, document: dict[str, Any]) -> int:
    check_document(document)
    record = Record.objects.create(owner_id=owner_id, collection=collection, data=document)
    return record.id


def record_delete(*, owner_id: Any, collection: str, filter: Any) -> int:
    deleted, _ = _matching(owner_id, collection, filter).delete()
    return deleted


def record_update(*, owner_id: Any, collection: str, filter: Any, update: Any) -> tuple[int, int]:
    """Applies `update` to every matching record; returns (matched, modified)."""
    changes = parse_update(update)
    cap = settings.SWITCHBOARD.records_max_update
    records = list(_matching(owner_id, collection, filter).select_for_update().only("id", "data")[: cap + 1])
    if len(records) > cap:
        raise RecordQueryError(f"An update changes at most {cap} records; narrow the filter.", "too_many_records")
    now, modified = timezone.now(), []
    for record in records:
        data = apply_update(record.data, changes)
        if data != record.data:
            check_document(data)
            record.data, record.updated_at = data, now
            modified.append(record)
    Record.objects.bulk_update(modified, ["data", "updated_at"], batch_size=500)
    return len(records), len(modified)


def parse_update(update: Any) -> list[tuple[str, tuple[str, ...], Any]]:
    """The update as (operator, path, value) steps; a plain object is a $set."""
    if not isinstance(update, dict) or not update:
        raise RecordQueryError("update is a non-empty object.", code="invalid_update")
    if not any(isinstance(key, str) and key.startswith("$") for key in update):
        update = {"$set": update}
    steps = []
    for op, fields in update.items():
        if op not in UPDATE_OPERATORS:
            raise RecordQueryError(
                f"Unknown update operator {op!r}; use {', '.join(UPDATE_OPERATORS)} (not mixed with plain fields).",
                code="invalid_update",
            )
        if op == "$unset" and isinstance(fields, list):
            fields = dict.fromkeys(fields, "")
        if not isinstance(fields, dict):
            raise RecordQueryError(f"{op} takes an object of field: value.", code="invalid_update")
        for name, value in fields.items():
            path = parse_path(name, what="update")
            if path[0] == "id":
                raise RecordQueryError("A record's id cannot be changed.", code="invalid_update")
            if op == "$inc" and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise RecordQueryError(f"$inc {name}: the amount is a number.", code="invalid_update")
            steps.append((op, path, value))
    return steps


def apply_update(data: dict[str, Any], steps: list[tuple[str, tuple[str, ...], Any]]) -> dict[str, Any]:
    updated = copy.deepcopy(data)
    for op, path, value in steps:
        parent = updated
        for segment in path[:-1]:
            child = parent.get(segment)
            if child is None and op != "$unset":
                child = parent[segment] = {}
            if not isinstance(child, dict):
                if op == "$unset":
                    break
                raise RecordQueryError(f"{'.'.join(path)}: {segment} is not an object.", code="invalid_update")
            parent = child
        else:
            key = path[-1]
            if op == "$set":
                parent[key] = copy.deepcopy(value)
            elif op == "$unset":
                parent.pop(key, None)
            else:
                current = parent.get(key, 0)
                if isinstance(current, bool) or not isinstance(current, int | float):
                    raise RecordQueryError(f"$inc {'.'.join(path)}: the field is not a number.", code="invalid_update")
                parent[key] = current + value
    return updated


class OwnerRecords:
    """One owner's record collections: the record store a DATABASE node is given
    (workflows_app.nodes.ports.RecordStore). Bound to the owner, so a node cannot name
    another user's."""

    __slots__ = ("owner_id",)

    def __init__(self, owner_id: Any):
        self.owner_id = owner_id

    def find(self, *, collection: str, filter: Any, sort: Any = None, limit: int | None = None) -> list[dict[str, Any]]:
        return record_find(owner_id=self.owner_id, collection=collection, filter=filter, sort=sort, limit=limit)

    def find_one(self, *, collection: str, filter: Any, sort: Any = None) -> dict[str, Any] | None:
        return record_find_one(owner_id=self.owner_id, collection=collection, filter=filter, sort=sort)

    def count(self, *, collection: str, filter: Any) -> int:
        return record_count(owner_id=self.owner_id, collection=collection, filter=filter)

    def insert(self, *, collection: str, document: dict[str, Any]) -> int:
        return record_insert(owner_id=self.owner_id, collection=collection, document=document)

    def update(self, *, collection: str, filter: Any, update: Any) -> tuple[int, int]:
        return record_update(owner_id=self.owner_id, collection=collection, filter=filter, update=update)

    def delete(self, *, collection: str, filter: Any) -> int:
        return record_delete(owner_id=self.owner_id, collection=collection, filter=filter)

    def check_document(self, document: Any) -> dict[str, Any]:
        return check_document(document)

    def check_filter(self, filter: Any) -> None:
        parse_filter_checked(filter)

    def check_update(self, update: Any) -> None:
        parse_update(update)
