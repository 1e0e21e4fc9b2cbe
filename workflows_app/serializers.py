"""Request and response shapes of the workflows API (docs/api/index.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import StrictSerializer
from workflows_app.layout import layout_problems
from workflows_app.models import DESCRIPTION_MAX_LENGTH, Workflow


def _definition_object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise serializers.ValidationError("The definition must be an object with nodes and edges.")
    return value


def _layout_object(value: Any) -> Any:
    problems = layout_problems(value)
    if problems:
        raise serializers.ValidationError(problems)
    return value


LAYOUT_SCHEMA = {
    "type": "object",
    "description": "Where the studio draws each node: `{node_id: {x, y}}`. Saved without a new version; "
    "the engine ignores it.",
    "additionalProperties": {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
    },
}


@extend_schema_field(LAYOUT_SCHEMA)
class LayoutField(serializers.JSONField):
    pass


# Any JSON to the field, but the API takes only an object: the schema says so, and the
# graph's own rules are the validator's (docs/concepts/workflows.md).
@extend_schema_field({"type": "object", "description": "The workflow's graph: `nodes` and `edges`."})
class DefinitionField(serializers.JSONField):
    pass


class WorkflowInput(StrictSerializer):
    """Body of create, PUT and PATCH. Read-only fields of the workflow shape (and of an
    export) are accepted and ignored, so a GET body or an export can be sent back."""

    name = serializers.CharField(max_length=Workflow._meta.get_field("name").max_length)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False)
    definition = DefinitionField(validators=[_definition_object])
    layout = LayoutField(required=False, validators=[_layout_object])
    # The version the client last read: on PUT/PATCH a stale one is refused with 409.
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    id = serializers.UUIDField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    format = serializers.CharField(read_only=True)
    exported_at = serializers.CharField(read_only=True)


class DefinitionInput(WorkflowInput):
    """Body of validate: `{"definition": ...}`, or the very body (or export) that create
    would take, whose other fields are then checked as create checks them."""

    name = serializers.CharField(max_length=Workflow._meta.get_field("name").max_length, required=False)


class WorkflowOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    version = serializers.IntegerField(source="current_version.number", allow_null=True)
    definition = serializers.JSONField(source="current_version.definition", allow_null=True)
    layout = LayoutField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class VersionSummaryOutput(serializers.Serializer):
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class VersionOutput(VersionSummaryOutput):
    definition = serializers.JSONField()


class ValidOutput(serializers.Serializer):
    valid = serializers.BooleanField()


class ExportOutput(serializers.Serializer):
    format = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    definition = serializers.JSONField()
    layout = LayoutField()


class NodeTypeOutput(serializers.Serializer):
    """One registered node type: how it runs, its config's JSON Schema and its output's."""

    type = serializers.CharField(source="type_name")
    queue = serializers.CharField()
    default_max_attempts = serializers.IntegerField()
    secret_fields = serializers.SerializerMethodField()
    config_schema = serializers.SerializerMethodField()
    output_schema = serializers.JSONField()

    def get_secret_fields(self, node_class: Any) -> list[str]:
        return sorted(node_class.secret_fields)

    def get_config_schema(self, node_class: Any) -> dict:
        return node_class.config_model.model_json_schema()


class NodeTypeListOutput(serializers.Serializer):
    results = NodeTypeOutput(many=True)
