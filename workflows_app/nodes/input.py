from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, node_type

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FieldType = Literal["string", "number", "integer", "boolean", "object", "array"]


def matches_type(value: Any, field_type: str) -> bool:
    """JSON Schema's notion of the type: booleans are not numbers, 3.0 is an integer."""
    if field_type == "string":
        return isinstance(value, str)
    if field_type == "boolean":
        return isinstance(value, bool)
    if field_type == "integer":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if field_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if field_type == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


class InputField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: FieldType = "string"
    required: bool = False
    default: Any = None
    description: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _default_fits(self) -> InputField:
        if self.default is not None:
            if self.required:
                raise ValueError("a required field cannot have a default")
            if not matches_type(self.default, self.type):
                raise ValueError(f"the default is not of type {self.type}")
        return self


class InputConfig(NodeConfig):
    fields: dict[str, InputField] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _names(cls, fields: dict[str, InputField]) -> dict[str, InputField]:
        bad = [name for name in fields if not FIELD_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"field names must match {FIELD_NAME.pattern}: {', '.join(map(repr, bad))}")
        return fields


@node_type("INPUT")
class Input(Node[InputConfig]):
    """The start of every workflow; its output is the validated inputs."""

    in_process = True
    output_schema = {
        "type": "object",
        "description": "The validated inputs, keyed by field name, defaults filled in.",
    }

    def run(self, ctx: NodeContext) -> dict[str, Any]:
        return dict(ctx.inputs)
