from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field

from workflows_app.models import Workflow

# A typed choice, so ?is_active=maybe is a 400 rather than silently no filter.
_BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]


class WorkflowFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    # Documented as the strings it takes: the model field alone would say boolean.
    is_active = extend_schema_field({"type": "string", "enum": [value for value, _ in _BOOLEAN_CHOICES]})(
        django_filters.TypedChoiceFilter(choices=_BOOLEAN_CHOICES, coerce=lambda value: value in ("true", "1", True))
    )

    class Meta:
        model = Workflow
        fields = ["name", "is_active"]
