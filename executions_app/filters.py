from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from executions_app.models import TRIGGER_KINDS, Execution, ExecutionStatus


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, compared in UTC. PostgreSQL refuses offsets beyond ±15:59
    that Python accepts (up to ±23:59), so the offset is folded into the time here; a time
    that would leave years 1 to 9999 on the way is invalid like any malformed one (400)."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def started_by(trigger: str) -> Q:
    """A kind (`webhook`) matches every trigger of that kind; `webhook:<id>` only that one."""
    if trigger in TRIGGER_KINDS:
        return Q(trigger=trigger) | Q(trigger__startswith=f"{trigger}:")
    return Q(trigger=trigger)


class TriggerFilter(django_filters.CharFilter):
    def filter(self, qs: Any, value: Any) -> Any:
        return qs.filter(started_by(value)) if value else qs


class ParentFilter(django_filters.UUIDFilter):
    """Child executions (SUBWORKFLOW, MAP items) are listed under their parent only:
    without `parent`, the list holds top-level executions."""

    def filter(self, qs: Any, value: Any) -> Any:
        return qs.filter(parent_id=value) if value else qs.filter(parent__isnull=True)


class ExecutionFilter(django_filters.FilterSet):
    workflow = django_filters.UUIDFilter(field_name="workflow_id")
    trigger = TriggerFilter(
        field_name="trigger",
        max_length=80,
        help_text="What started it: `api`, `cli`, `admin`, `retry`, `webhook`, `schedule`, `parent` (every one of "
        "that kind), or one trigger: `webhook:<id>`, `schedule:<id>`, `parent:<execution id>`.",
    )
    status = django_filters.ChoiceFilter(choices=ExecutionStatus.choices)
    parent = ParentFilter(
        help_text="The child executions this execution started (SUBWORKFLOW, MAP items); without it, only "
        "executions that no other started are listed.",
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Execution
        fields = ["workflow", "status", "trigger", "parent", "created_after", "created_before"]
