"""Admin: executions with their node runs and logs (read-only), "Run again" and "Cancel"
through the same services as the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.api import AppError
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution, ExecutionLog, NodeRun
from executions_app.retry import RETRYABLE, execution_retry
from executions_app.services import execution_cancel, execution_create

# Tuples, so that each can be both `fields` and `readonly_fields` (typed apart in django-stubs).
NODE_RUN_FIELDS = (
    "node_id",
    "type",
    "status",
    "attempts",
    "started_at",
    "finished_at",
    "duration",
    "reused_from",
    "output",
    "error",
    "attempt_log",
)
EXECUTION_LOG_FIELDS = ("created_at", "level", "node_id", "message")


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
    fields = NODE_RUN_FIELDS
    readonly_fields = NODE_RUN_FIELDS

    @admin.display(description="duration (ms)")
    def duration(self, obj: NodeRun) -> int | None:
        return obj.duration_ms


class ExecutionLogInline(ReadOnlyInline):
    model = ExecutionLog
    fields = EXECUTION_LOG_FIELDS
    readonly_fields = EXECUTION_LOG_FIELDS


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "status", "owner", "created_at", "duration", "failed_node"]
    list_filter = ["status", ("workflow", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "workflow__name", "owner__username", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["workflow", "owner"]
    inlines = [NodeRunInline, ExecutionLogInline]
    actions = ["run_again", "cancel"]

    @admin.display(description="duration (ms)")
    def duration(self, obj: Execution) -> int | None:
        return obj.duration_ms

    @admin.display(description="failed node")
    def failed_node(self, obj: Execution) -> str:
        error = obj.error if isinstance(obj.error, dict) else {}
        return error.get("node_id") or ""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("executions_app.add_execution")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("executions_app.change_execution")

    @admin.action(
        description="Run again (failed or canceled: retry, reusing completed nodes; others: a new run, same inputs)",
        permissions=["run"],
    )
    def run_again(self, request: HttpRequest, queryset: QuerySet[Execution]) -> None:
        started, refused = [], []
        for execution in queryset.select_related("owner"):
            try:
                if execution.status in RETRYABLE:
                    new = execution_retry(execution=execution)
                else:
                    new, _ = execution_create(
                        user=execution.owner, workflow_id=execution.workflow_id, inputs=execution.inputs
                    )
            except AppError as exc:
                refused.append(f"{execution.id}: {exc.message}")
                continue
            started.append(str(new.id))
        if started:
            self.message_user(request, f"Started {len(started)} execution(s): {', '.join(started)}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, f"Not run again: {reason}", messages.ERROR)

    @admin.action(description="Cancel (no new node starts; running nodes finish)", permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Execution]) -> None:
        active = [execution for execution in queryset if execution.status not in FINISHED_EXECUTION_STATUSES]
        for execution in active:
            execution_cancel(execution=execution)
        skipped = queryset.count() - len(active)
        note = f" ({skipped} already finished, unchanged)" if skipped else ""
        self.message_user(request, f"Canceled {len(active)} execution(s){note}.", messages.SUCCESS)
