"""Admin: a workflow's current definition is edited as formatted JSON and validated with
the API's own messages; saving a changed definition makes a new version through the
service. Versions are read-only; workflows are archived, never deleted, as in the API."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from workflows_app.definition import DefinitionInvalid, parse_definition
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.services import workflow_archive, workflow_create, workflow_update

# Tuples, so that each can be both `fields` and `readonly_fields` (typed apart in django-stubs).
VERSION_INLINE_FIELDS = ("number", "created_at", "created_by")
VERSION_FIELDS = ("id", "workflow", "number", "created_at", "created_by", "definition_json")

STARTER_DEFINITION = {
    "nodes": [
        {"id": "start", "type": "INPUT", "config": {"fields": {"text": {"type": "string", "required": True}}}},
        {"id": "result", "type": "OUTPUT", "config": {"value": {"text": "{{ inputs.text }}"}}},
    ],
    "edges": [{"source": "start", "target": "result"}],
}


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class PrettyJSONField(forms.JSONField):
    """JSON edited indented; text that is not JSON is refused saying where it breaks."""

    def prepare_value(self, value: Any) -> Any:
        return value if isinstance(value, InvalidJSONInput) else pretty_json(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value not in self.empty_values and not self.disabled:
            try:
                json.loads(value, cls=self.decoder)
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    "Enter valid JSON: line %(line)s, column %(column)s: %(reason)s.",
                    code="invalid",
                    params={"line": exc.lineno, "column": exc.colno, "reason": exc.msg, "value": value},
                ) from exc
        return super().to_python(value)


def problem_text(problem: dict) -> str:
    node = f" (node {problem['node_id']})" if problem.get("node_id") else ""
    return f"{problem['path'] or 'definition'}{node}: {problem['message']}"


class WorkflowAdminForm(forms.ModelForm):
    definition = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 30, "cols": 110, "style": "font-family: monospace"}),
        help_text="The current version's definition. Saving a changed definition creates a new version.",
    )

    class Meta:
        model = Workflow
        fields = ["owner", "name", "description", "is_active"]

    # The version the form was opened at: saving over a newer one (an API edit made while
    # the form was open) is refused instead of silently reverting it.
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        version = self.instance.current_version if self.instance.pk else None
        self.fields["definition"].initial = version.definition if version else STARTER_DEFINITION
        self.fields["based_on_version"].initial = version.number if version else None

    # The signed-in user, set per request by WorkflowAdmin.get_form.
    editor: Any = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean returns
        self._check_definition_is_the_owners_to_write(cleaned)
        based_on = cleaned.get("based_on_version")
        if self.instance.pk and based_on is not None:
            current = (
                Workflow.objects.filter(pk=self.instance.pk).values_list("current_version__number", flat=True).first()
            )
            if current != based_on:
                raise forms.ValidationError(
                    f"This workflow changed since you opened it (now version {current}, not {based_on}): "
                    "reload the page and apply your change again."
                )
        return cleaned

    def clean_definition(self) -> Any:
        definition = self.cleaned_data["definition"]
        version = None if self.instance._state.adding else self.instance.current_version
        # Unchanged (a rename, say): checked as the stored version it is, so one saved
        # before a newer check can still be renamed, deactivated or archived.
        unchanged = version is not None and definition == version.definition
        try:
            parse_definition(definition, stored=unchanged)
        except DefinitionInvalid as exc:
            raise forms.ValidationError([problem_text(problem) for problem in exc.problems]) from None
        return definition

    def _check_definition_is_the_owners_to_write(self, cleaned: dict[str, Any]) -> None:
        """A definition decides what the owner's runs do with the owner's credentials,
        records and data (an HTTP_REQUEST can send any of them anywhere). So only the owner
        or a superuser writes one; other staff with the change permission can rename,
        describe, deactivate and archive. Otherwise they could have the owner's next run
        send the owner's secrets or records to a server of their own."""
        adding = self.instance._state.adding  # the pk is a UUID set before the first save
        owner = cleaned.get("owner") if adding else self.instance.owner
        editor = self.editor
        if owner is None or (editor is not None and (editor.is_superuser or editor.pk == owner.pk)):
            return
        version = None if adding else self.instance.current_version
        if version is not None and cleaned.get("definition") == version.definition:
            return  # name, description or is_active only
        self.add_error(
            "definition",
            f"Only {owner.get_username()} or a superuser can write this workflow's definition: it decides what "
            f"runs do with {owner.get_username()}'s secrets, records and data.",
        )


class VersionInline(admin.TabularInline):
    model = WorkflowVersion
    fk_name = "workflow"
    fields = VERSION_INLINE_FIELDS
    readonly_fields = VERSION_INLINE_FIELDS
    ordering = ["-number"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowAdminForm
    list_display = ["name", "owner", "version_number", "is_active", "archived_at", "updated_at"]
    list_filter = ["is_active", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner", "current_version"]
    readonly_fields = ["id", "version_number", "archived_at", "created_at", "updated_at", "runs"]
    inlines = [VersionInline]
    actions = ["archive_workflows"]

    @admin.display(description="definition")
    def definition(self, obj: Workflow) -> str:
        """The definition as a view-only page (an archived workflow) shows it; the form's
        field is not the model's, so without this it read "None"."""
        version = obj.current_version
        return format_html("<pre>{}</pre>", pretty_json(version.definition)) if version else "-"

    @admin.display(description="executions")
    def runs(self, obj: Workflow) -> str:
        """Links to the workflow's executions and to the form that runs it: the executions
        admin, a layer above, is reached by URL name, not imported."""
        if obj.pk is None:
            return "-"
        executions = reverse("admin:executions_app_execution_changelist") + f"?workflow__id__exact={obj.pk}"
        run = reverse("admin:executions_app_execution_run", args=[obj.pk])
        return format_html('<a href="{}">Executions</a> | <a href="{}">Run</a>', executions, run)

    @admin.display(description="version")
    def version_number(self, obj: Workflow) -> int | None:
        return obj.current_version.number if obj.current_version else None

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        assert issubclass(form, WorkflowAdminForm)  # a subclass of self.form made by modelform_factory
        form.editor = request.user  # a class made for this request
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A workflow's owner is fixed once created: its executions use the owner's
        # credentials and records, and no service moves it.
        return [*self.readonly_fields, "owner"] if obj is not None else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archived instead: executions keep their workflow and version

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An archived workflow is kept for its history: viewable, no longer editable.
        return super().has_change_permission(request, obj) and not (obj is not None and obj.archived_at)

    def save_model(self, request: HttpRequest, obj: Workflow, form: WorkflowAdminForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "description": data.get("description") or "",
            "is_active": data["is_active"],
            "definition": data["definition"],
        }
        if change:
            saved = workflow_update(workflow=obj, user=request.user, **fields)
        else:
            saved = workflow_create(owner=data["owner"], **fields)
        # The admin goes on with `obj` (messages, log entry, redirect): make it the saved row.
        obj.__dict__.update({key: value for key, value in saved.__dict__.items() if key != "_state"})
        obj._state.adding, obj._state.db = False, saved._state.db

    @admin.action(
        description="Archive selected workflows (hidden from the API; versions and executions kept)",
        permissions=["change"],
    )
    def archive_workflows(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        workflows = list(queryset.filter(archived_at__isnull=True))
        for workflow in workflows:
            workflow_archive(workflow=workflow)
        self.message_user(request, f"Archived {len(workflows)} workflow(s).", messages.SUCCESS)


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    list_display = ["workflow", "number", "created_at", "created_by"]
    list_select_related = ["workflow", "created_by"]
    search_fields = ["workflow__name"]
    fields = VERSION_FIELDS
    readonly_fields = VERSION_FIELDS

    @admin.display(description="definition")
    def definition_json(self, obj: WorkflowVersion) -> str:
        return format_html("<pre>{}</pre>", pretty_json(obj.definition))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
