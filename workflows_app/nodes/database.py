from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from records_app.filters import RecordQueryError, check_templated_values, parse_filter, parse_sort
from workflows_app.nodes.base import (
    DeferredWrite,
    Node,
    NodeConfig,
    NodeContext,
    TemplateObject,
    TemplateObjectOrWhole,
    node_type,
    saved_only,
)

Operation = Literal["insert", "find", "find_one", "update", "delete", "count"]
COLLECTION_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_LIMIT = 1000

# What each operation needs and what it accepts beside `operation` and `collection`.
REQUIRED = {
    "insert": {"document"},
    "find": set(),
    "find_one": set(),
    "update": {"filter", "update"},
    "delete": {"filter"},
    "count": set(),
}
ALLOWED = {
    "insert": {"document"},
    "find": {"filter", "sort", "limit"},
    "find_one": {"filter", "sort"},
    "update": {"filter", "update"},
    "delete": {"filter"},
    "count": {"filter"},
}


class DatabaseConfig(NodeConfig):
    operation: Operation
    collection: str = Field(pattern=COLLECTION_PATTERN)
    document: TemplateObjectOrWhole = None
    filter: TemplateObject = None
    update: TemplateObject = None
    sort: dict[str, Literal[1, -1]] | None = None
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def _fields_for_operation(self, info: ValidationInfo) -> DatabaseConfig:
        given = {name for name in ("document", "filter", "update", "sort", "limit") if getattr(self, name) is not None}
        for name in sorted(REQUIRED[self.operation] - given):
            raise PydanticCustomError(
                "missing_for_operation",
                "{field} is required for {operation}",
                {"field": name, "operation": self.operation, "at": (name,)},
            )
        for name in sorted(given - ALLOWED[self.operation]):
            raise PydanticCustomError(
                "not_for_operation",
                "{field} is not used by {operation}",
                {"field": name, "operation": self.operation, "at": (name,)},
            )
        # Refused at run time too (store.check_document); at save since it was added.
        if saved_only(info) and isinstance(self.document, dict) and "id" in self.document:
            raise PydanticCustomError(
                "invalid_document",
                '"id" is the record\'s own id; name the field differently',
                {"at": ("document", "id")},
            )
        # Keys and operators are never templates, so their shape is checked when the
        # workflow is saved; values are checked again once rendered.
        for name, check in (("filter", parse_filter), ("sort", parse_sort)):
            try:
                check(getattr(self, name))
            except RecordQueryError as exc:
                raise PydanticCustomError(exc.code, "{message}", {"message": exc.message, "at": (name,)}) from None
        return self


@node_type("DATABASE")
class Database(Node[DatabaseConfig]):
    """Reads and writes the owner's record collections in the platform database."""

    # One shape per operation: find, find_one, count, insert, update, delete.
    output_schema = {
        "type": "object",
        "oneOf": [
            {"properties": {"records": {"type": "array", "items": {"type": "object"}}}, "required": ["records"]},
            {"properties": {"record": {"type": ["object", "null"]}}, "required": ["record"]},
            {"properties": {"count": {"type": "integer"}}, "required": ["count"]},
            {"properties": {"inserted_id": {"type": "integer"}}, "required": ["inserted_id"]},
            {
                "properties": {"matched": {"type": "integer"}, "modified": {"type": "integer"}},
                "required": ["matched", "modified"],
            },
            {"properties": {"deleted": {"type": "integer"}}, "required": ["deleted"]},
        ],
    }

    def run(self, ctx: NodeContext) -> Any:
        config = self.config
        records = ctx.records
        scope = {"collection": config.collection}
        operation = config.operation
        rendered_filter = ctx.render(config.filter) if config.filter is not None else {}
        check_templated_values(config.filter, rendered_filter)
        if operation == "find":
            found = records.find(**scope, filter=rendered_filter, sort=config.sort, limit=config.limit)
            return {"records": found}
        if operation == "find_one":
            return {"record": records.find_one(**scope, filter=rendered_filter, sort=config.sort)}
        if operation == "count":
            return {"count": records.count(**scope, filter=rendered_filter)}
        # Writes are checked now and applied in the completion transaction: a redelivered
        # node never writes twice, and a failed completion leaves no write behind.
        if operation == "insert":
            document = records.check_document(ctx.render(config.document))
            return DeferredWrite(apply=lambda: {"inserted_id": records.insert(**scope, document=document)})
        records.check_filter(rendered_filter)
        if operation == "update":
            changes = ctx.render(config.update)
            records.check_update(changes)

            def apply_update() -> dict[str, Any]:
                matched, modified = records.update(**scope, filter=rendered_filter, update=changes)
                return {"matched": matched, "modified": modified}

            return DeferredWrite(apply=apply_update)
        return DeferredWrite(apply=lambda: {"deleted": records.delete(**scope, filter=rendered_filter)})
