"""Admin: executions with their node runs and logs (read-only), "Run again" and "Cancel"
through the same services as the API."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.api import AppError
from executions_app.admin_display import in_seconds, indented_json, json_display, time_display
from executions_app.filters import started_by
from executions_app.models import FINISHED_EXECUTION_STATUSES, TRIGGER_KINDS, Execution, NodeRun
from executions_app.retry import RETRYABLE, execution_retry
from executions_app.selectors import execution_logs
from executions_app.services import execution_cancel, execution_create
from executions_app.waiting import waiting_on
from workflows_app.admin import PrettyJSONField
from workflows_app.models import Workflow

# Tuples, so that each can be both `fields` and `readonly_fields` (typed apart in django-stubs).
NODE_RUN_FIELDS = (
    "node_id",
    "type",
    "status",
    "runs",
    "started",
    "finished",
    "duration",
    "reused_from",
    "output_json",
    "error_json",
    "attempt_log_json",
    "waiting_on_json",
)
# The model's times, shown to the millisecond in UTC by the display methods named here.
EXECUTION_TIMES = {
    "created_at": "created",
    "started_at": "started",
    "finished_at": "finished",
    "deadline_at": "deadline",
}
# The model's JSON fields, shown indented by the display methods named here.
EXECUTION_JSON = {"inputs": "inputs_json", "outputs": "outputs_json", "error": "error_json"}
DISPLAYED_AS = {**EXECUTION_TIMES, **EXECUTION_JSON}
LOG_COLUMNS = ("time", "level", "node", "attempt", "duration (ms)", "error code", "message")


class TimesToTheMillisecond:
    """Display methods for the times of an execution or a node run."""

    created = time_display("created_at")
    started = time_display("started_at")
    finished = time_display("finished_at")
    deadline = time_display("deadline_at")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class NodeRunInline(TimesToTheMillisecond, ReadOnlyInline):
    model = NodeRun
    fields = NODE_RUN_FIELDS
    readonly_fields = NODE_RUN_FIELDS

    @admin.display(description="duration (ms)")
    def duration(self, obj: NodeRun) -> int | None:
        return obj.duration_ms

    output_json = json_display("output")
    error_json = json_display("error")
    attempt_log_json = json_display("attempt_log")
    waiting_on_json = json_display("waiting_on")

    @admin.display(description="attempts")
    def runs(self, obj: NodeRun) -> int:
        return obj.runs  # resumes of a waiting node are not attempts


def log_table(execution: Execution) -> SafeString:
    """The execution's log as the API answers it (its lines are read from the rows, so
    an inline of stored rows cannot show them): a small table, oldest first."""
    lines = execution_logs(execution=execution)
    if not lines:
        return format_html("<p>{}</p>", "No lines.")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                line.created_at.isoformat(timespec="milliseconds"),
                line.level,
                line.node_id,
                "" if line.attempt is None else line.attempt,
                "" if line.duration_ms is None else line.duration_ms,
                line.error_code or "",
                line.message,
            )
            for line in lines
        ),
    )
    head = format_html_join("", "<th>{}</th>", ((column,) for column in LOG_COLUMNS))
    return format_html('<table class="execution-log"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, rows)


class RunWorkflowForm(forms.Form):
    inputs = PrettyJSONField(
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 15, "cols": 80, "style": "font-family: monospace"}),
        help_text="A JSON object with the workflow's INPUT fields, checked as the API checks them.",
    )


class TriggerKindFilter(admin.SimpleListFilter):
    """By what started the execution: one entry per kind (`webhook` covers every hook)."""

    title = "trigger"
    parameter_name = "trigger_kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(kind, kind) for kind in TRIGGER_KINDS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Execution]) -> QuerySet[Execution]:
        kind = self.value()
        return queryset.filter(started_by(kind)) if kind in TRIGGER_KINDS else queryset


@admin.register(Execution)
class ExecutionAdmin(TimesToTheMillisecond, admin.ModelAdmin):
    list_display = ["id", "workflow", "status", "trigger", "owner", "created", "duration", "failed_node"]
    list_filter = ["status", TriggerKindFilter, ("workflow", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "trigger", "workflow__name", "owner__username", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["workflow", "owner"]
    inlines = [NodeRunInline]
    readonly_fields = ["log", "waiting", *DISPLAYED_AS.values()]
    actions = ["run_again", "cancel"]

    @admin.display(description="waiting on")
    def waiting(self, obj: Execution) -> SafeString:
        """Why a running execution is not moving: its waiting nodes."""
        return indented_json(waiting_on(obj.node_runs.all()) or None)

    inputs_json = json_display("inputs")
    outputs_json = json_display("outputs")
    error_json = json_display("error")

    @admin.display(description="execution log")
    def log(self, obj: Execution) -> SafeString:
        return log_table(obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """The model's fields (times and JSON through their display methods), then the
        log in a section of its own."""
        fields = [
            DISPLAYED_AS.get(name, name)
            for name in map(str, self.get_fields(request, obj))
            if name != "log" and name not in DISPLAYED_AS.values()
        ]
        if obj is not None and obj.status in FINISHED_EXECUTION_STATUSES:
            # The engine's count of nodes not yet final: once ended, a leftover count
            # (a failure stops the run with nodes never reached) only misleads.
            fields.remove("remaining_nodes")
        return [(None, {"fields": fields}), ("Execution log", {"fields": ["log"]})]

    @admin.display(description="duration")
    def duration(self, obj: Execution) -> str:
        return in_seconds(obj.duration_ms)

    @admin.display(description="failed node")
    def failed_node(self, obj: Execution) -> str:
        error = obj.error if isinstance(obj.error, dict) else {}
        return error.get("node_id") or ""

    def get_urls(self) -> list[URLPattern]:
        run = path(
            "run/<uuid:workflow_id>/",
            self.admin_site.admin_view(self.run_workflow_view),
            name="executions_app_execution_run",
        )
        return [run, *super().get_urls()]

    def run_workflow_view(self, request: HttpRequest, workflow_id: Any) -> HttpResponse:
        """Runs a workflow as its owner with the inputs typed in, through the API's service."""
        if not self.has_run_permission(request):
            raise PermissionDenied
        workflow = get_object_or_404(Workflow, pk=workflow_id)
        form = RunWorkflowForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            inputs = form.cleaned_data["inputs"]
            if not isinstance(inputs, dict):
                form.add_error("inputs", "The inputs must be a JSON object.")
            else:
                try:
                    execution, _ = execution_create(
                        user=workflow.owner, workflow_id=workflow.pk, inputs=inputs, trigger="admin"
                    )
                except AppError as exc:
                    details = f" {json.dumps(exc.details, ensure_ascii=False)}" if exc.details else ""
                    form.add_error("inputs", f"{exc.message}{details}")
                else:
                    self.message_user(request, f"Started execution {execution.id}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:executions_app_execution_change", args=[execution.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Run {workflow.name}",
            "opts": self.model._meta,
            "workflow": workflow,
            "form": form,
        }
        return TemplateResponse(request, "admin/executions_app/run_workflow.html", context)

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
                        user=execution.owner,
                        workflow_id=execution.workflow_id,
                        inputs=execution.inputs,
                        trigger="admin",
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
