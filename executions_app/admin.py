"""Admin: executions with their node runs and logs (read-only), "Run again" and "Cancel"
through the same services as the API; credentials with write-only values."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.api import AppError
from executions_app.credentials import credential_create, credential_update
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution, ExecutionLog, NodeRun
from executions_app.models_records import Credential
from executions_app.retry import RETRYABLE, execution_retry
from executions_app.services import execution_cancel, execution_create


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
    fields = [
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
    ]
    readonly_fields = fields

    @admin.display(description="duration (ms)")
    def duration(self, obj: NodeRun) -> int | None:
        return obj.duration_ms


class ExecutionLogInline(ReadOnlyInline):
    model = ExecutionLog
    fields = ["created_at", "level", "node_id", "message"]
    readonly_fields = fields


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


def may_write_credentials_of(editor: Any, owner: Any) -> bool:
    return editor is not None and (editor.is_superuser or editor.pk == owner.pk)


class CredentialAdminForm(forms.ModelForm):
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Write-only: never shown again. Leave empty to keep the stored value.",
    )

    class Meta:
        model = Credential
        fields = ["owner", "name", "description"]

    # The signed-in user, set per request by CredentialAdmin.get_form.
    editor: Any = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance._state.adding and not data.get("value"):
            self.add_error("value", "A new credential needs a value.")
        owner = data.get("owner") if self.instance._state.adding else self.instance.owner
        if owner is not None and not may_write_credentials_of(self.editor, owner):
            # A value of one's own under a name the owner's workflow sends would route the
            # owner's data to one's own account: only the owner or a superuser writes here.
            self.add_error(
                None, f"Only {owner.get_username()} or a superuser can write {owner.get_username()}'s credentials."
            )
        owner_id = data["owner"].pk if data.get("owner") else self.instance.owner_id
        name_taken = Credential.objects.filter(owner_id=owner_id, name=data.get("name")).exclude(pk=self.instance.pk)
        if owner_id and name_taken.exists():
            self.add_error("name", "This owner already has a credential with this name.")
        return data


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """The encrypted value is never displayed; a new one can be written through the
    same services as the API."""

    form = CredentialAdminForm
    list_display = ["name", "owner", "description", "created_at", "updated_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Credential | None = None) -> list[str]:
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.editor = request.user  # a class made for this request by modelform_factory
        return form

    def has_change_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_write_credentials_of(request.user, obj.owner))

    def has_delete_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_write_credentials_of(request.user, obj.owner))

    def save_model(self, request: HttpRequest, obj: Credential, form: CredentialAdminForm, change: bool) -> None:
        data = form.cleaned_data  # the form has checked the name is free
        if change:
            saved = credential_update(
                credential=obj,
                name=data["name"],
                description=data.get("description") or "",
                value=data["value"] or None,
            )
        else:
            saved = credential_create(
                user=data["owner"], name=data["name"], value=data["value"], description=data.get("description") or ""
            )
        obj.__dict__.update({key: value for key, value in saved.__dict__.items() if key != "_state"})
        obj._state.adding, obj._state.db = False, saved._state.db


import executions_app.admin_records  # noqa: E402, F401  (record collections, read-only)
