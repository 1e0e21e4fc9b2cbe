"""Admin for record collections: read-only (credentials are in admin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from records_app.models import Record

# A tuple, so that it can be both `fields` and `readonly_fields` (typed apart in django-stubs).
RECORD_FIELDS = ("owner", "collection", "data", "created_at", "updated_at")

# ModelAdmin is generic in django-stubs only; at run time it takes no type argument.
if TYPE_CHECKING:
    _RecordModelAdmin = admin.ModelAdmin[Record]
else:
    _RecordModelAdmin = admin.ModelAdmin


@admin.register(Record)
class RecordAdmin(_RecordModelAdmin):
    list_display = ["id", "owner", "collection", "created_at", "updated_at"]
    list_filter = ["collection"]
    search_fields = ["collection", "owner__username"]
    list_select_related = ["owner"]
    fields = RECORD_FIELDS
    readonly_fields = RECORD_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
