"""Admin for record collections: read-only (credentials are in admin.py)."""

from __future__ import annotations

from django.contrib import admin

from records_app.models import Record


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "collection", "created_at", "updated_at"]
    list_filter = ["collection"]
    search_fields = ["collection", "owner__username"]
    list_select_related = ["owner"]
    fields = ["owner", "collection", "data", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
