from __future__ import annotations

from django.contrib import admin

from executions_app.models import Execution, ExecutionLog, NodeRun


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class NodeRunInline(ReadOnlyInline):
    model = NodeRun
    fields = ["node_id", "type", "status", "attempts", "started_at", "finished_at", "output", "error", "attempt_log"]
    readonly_fields = fields


class ExecutionLogInline(ReadOnlyInline):
    model = ExecutionLog
    fields = ["created_at", "level", "node_id", "message"]
    readonly_fields = fields


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "status", "owner", "created_at", "finished_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "workflow__name", "owner__username"]
    date_hierarchy = "created_at"
    list_select_related = ["workflow", "owner"]
    inlines = [NodeRunInline, ExecutionLogInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
