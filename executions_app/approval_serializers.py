"""Bodies and answers of the approvals API (approval_apis.py). A field named `data`
shadows Serializer.data for the type checker only: DRF takes declared fields off the class."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api import StrictSerializer
from executions_app.approvals.decisions import MAX_COMMENT_CHARS


class DecisionInput(StrictSerializer):
    """A decision on a waiting APPROVAL node: approve or reject, with an optional comment
    and, to correct the proposed values, `data` (checked against the node's data_schema)."""

    decision = serializers.ChoiceField(choices=["approve", "reject"])
    comment = serializers.CharField(max_length=MAX_COMMENT_CHARS, required=False, allow_blank=True)
    data = serializers.JSONField(  # type: ignore[assignment]
        required=False, allow_null=True, help_text="An object: the values decided."
    )

    def validate_data(self, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("data is an object.")
        return value


class DecisionOutput(serializers.Serializer):
    execution_id = serializers.UUIDField()
    execution_status = serializers.CharField()
    node_id = serializers.CharField()
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    by = serializers.CharField()
    at = serializers.DateTimeField()
    comment = serializers.CharField(allow_null=True)
    data = serializers.JSONField(allow_null=True)  # type: ignore[assignment]


class ApprovalLinksOutput(serializers.Serializer):
    approve_url = serializers.URLField(help_text="Shown this once: only its hash is kept.")
    reject_url = serializers.URLField(help_text="Shown this once: only its hash is kept.")
    expires_at = serializers.DateTimeField()


class ApprovalOutput(serializers.Serializer):
    execution_id = serializers.UUIDField()
    execution_status = serializers.CharField()
    workflow_id = serializers.UUIDField()
    workflow_name = serializers.CharField()
    node_id = serializers.CharField()
    message = serializers.CharField()
    data = serializers.JSONField(  # type: ignore[assignment]
        allow_null=True, help_text="The proposed values, which the approver may correct."
    )
    data_schema = serializers.JSONField(allow_null=True)
    requested_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When the default decision applies, if ever.")
