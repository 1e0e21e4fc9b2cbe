from __future__ import annotations

import django_filters

from executions_app.models import Execution, ExecutionStatus


class ExecutionFilter(django_filters.FilterSet):
    workflow = django_filters.UUIDFilter(field_name="workflow_id")
    status = django_filters.ChoiceFilter(choices=ExecutionStatus.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Execution
        fields = ["workflow", "status", "created_after", "created_before"]
