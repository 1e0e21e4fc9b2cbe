from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import StrictSerializer
from executions_app.models import Execution, ExecutionLog, NodeRun
from executions_app.waiting import WAITING_ON_SCHEMA, waiting_on


class ExecutionCreateInput(StrictSerializer):
    """A run of a workflow's active version with these inputs; `wait` holds the answer up
    to that many seconds for the execution to end."""

    workflow_id = serializers.UUIDField()
    inputs = serializers.DictField(required=False, default=dict)
    wait = serializers.FloatField(required=False, min_value=0, max_value=60)


class NodeRunOutput(serializers.ModelSerializer):
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    attempts = serializers.IntegerField(
        source="runs",
        read_only=True,
        help_text="Runs of the node's work so far; waking a waiting node to run again does not count.",
    )
    waiting_on = serializers.JSONField(
        read_only=True, allow_null=True, help_text="While `waiting`: what wakes it (see the execution's `waiting_on`)."
    )
    reused_from: serializers.PrimaryKeyRelatedField[NodeRun] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = NodeRun
        fields = [
            "node_id",
            "type",
            "status",
            "attempts",
            "attempt_log",
            "output",
            "error",
            "started_at",
            "finished_at",
            "duration_ms",
            "reused_from",
            "waiting_on",
        ]


class ExecutionOutput(serializers.ModelSerializer):
    workflow_id = serializers.UUIDField(read_only=True)
    workflow_version = serializers.IntegerField(source="version.number", read_only=True)
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    nodes = NodeRunOutput(source="node_runs", many=True, read_only=True)
    parent_execution_id = serializers.UUIDField(
        source="parent_id", read_only=True, allow_null=True, help_text="The execution whose node started this one."
    )
    parent_node_id = serializers.CharField(
        read_only=True, help_text="The SUBWORKFLOW or MAP node of the parent that started it; empty at the top level."
    )
    parent_index = serializers.IntegerField(read_only=True, help_text="The MAP item's index (0 for a SUBWORKFLOW).")
    waiting_on = serializers.SerializerMethodField(
        help_text="Why the execution is not moving: one entry per waiting node, `{kind, node_id, ...}` with "
        "`kind` `timer` (`until`), `child` (`execution_id`) or `decision` (`approval`). Empty when nothing waits. "
        "An execution whose only live nodes wait stays `running`."
    )

    @extend_schema_field({"type": "array", "items": WAITING_ON_SCHEMA})
    def get_waiting_on(self, execution: Execution) -> list[dict[str, Any]]:
        return waiting_on(execution.node_runs.all())

    class Meta:
        model = Execution
        fields = [
            "id",
            "workflow_id",
            "workflow_version",
            "status",
            "inputs",
            "outputs",
            "error",
            "trigger",
            "parent_execution_id",
            "parent_node_id",
            "parent_index",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "waiting_on",
            "nodes",
        ]


class ExecutionLogQuery(serializers.Serializer):
    """The filters of an execution's log (query parameters)."""

    level = serializers.MultipleChoiceField(
        choices=ExecutionLog.Level.choices,
        required=False,
        help_text="Only lines at this level; repeat it for several (`?level=warning&level=error`).",
    )
    node_id = serializers.CharField(required=False, max_length=64, help_text="Only the lines of this node.")
    search = serializers.CharField(
        required=False, max_length=200, help_text="Only lines whose message holds this text (case-insensitive)."
    )


class ExecutionLogOutput(serializers.Serializer):
    """One line of an execution's log: derived from the execution and its node runs when
    the log is read (`id` null), or stored (a cancel, the sweeper, a retry)."""

    id = serializers.IntegerField(
        allow_null=True, help_text="The stored line's id; null for a line read from the execution and its node runs."
    )
    created_at = serializers.DateTimeField(help_text="When it happened.")
    level = serializers.ChoiceField(choices=ExecutionLog.Level.choices)
    node_id = serializers.CharField(help_text="The node the line is about; empty for the execution's own lines.")
    message = serializers.CharField()
    attempt = serializers.IntegerField(allow_null=True, help_text="The node's attempt the line is about.")
    duration_ms = serializers.IntegerField(
        allow_null=True,
        help_text="A node's end: since its first start; a failed attempt: its own time; the execution's end: its run.",
    )
    error_code = serializers.CharField(allow_null=True, help_text="The code of a failure.")
