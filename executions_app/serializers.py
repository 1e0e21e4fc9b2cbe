from __future__ import annotations

from rest_framework import serializers

from core.api import StrictSerializer
from executions_app.models import Execution, ExecutionLog, NodeRun


class ExecutionCreateInput(StrictSerializer):
    workflow_id = serializers.UUIDField()
    inputs = serializers.DictField(required=False, default=dict)
    wait = serializers.FloatField(required=False, min_value=0, max_value=60)


class NodeRunOutput(serializers.ModelSerializer):
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
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
        ]


class ExecutionOutput(serializers.ModelSerializer):
    workflow_id = serializers.UUIDField(read_only=True)
    workflow_version = serializers.IntegerField(source="version.number", read_only=True)
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    nodes = NodeRunOutput(source="node_runs", many=True, read_only=True)

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
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "nodes",
        ]


class ExecutionLogOutput(serializers.ModelSerializer):
    class Meta:
        model = ExecutionLog
        fields = ["id", "node_id", "level", "message", "created_at"]
