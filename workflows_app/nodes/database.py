from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, TemplateObject, node_type

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
    document: TemplateObject = None
    filter: TemplateObject = None
    update: TemplateObject = None
    sort: dict[str, Literal[1, -1]] | None = None
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def _fields_for_operation(self) -> DatabaseConfig:
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
        return self


@node_type("DATABASE")
class Database(Node[DatabaseConfig]):
    """Reads and writes the owner's record collections in the platform database."""

    def run(self, ctx: NodeContext) -> Any:
        raise NotImplementedError("DATABASE runs arrive with the record collections.")
