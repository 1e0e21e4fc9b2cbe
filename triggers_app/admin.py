"""Admin for triggers: hooks with their delivery log, schedules with their ticks. Every
write goes through the services the API uses; a token or secret is shown once, in the
message after it was made, and never stored readable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.api import AppError
from executions_app.admin_display import json_display, time_display, to_the_millisecond
from triggers_app.models import Schedule, WebhookTrigger
from triggers_app.schedules import services as schedules
from triggers_app.schedules.firing import fire_now
from triggers_app.selectors import schedule_state, schedule_stop_reason
from triggers_app.webhooks import services as webhooks
from triggers_app.webhooks.ingest import deliver_test

if TYPE_CHECKING:
    _WebhookAdmin = admin.ModelAdmin[WebhookTrigger]
    _ScheduleAdmin = admin.ModelAdmin[Schedule]
    _ScheduleForm = forms.ModelForm[Schedule]
else:
    _WebhookAdmin = _ScheduleAdmin = admin.ModelAdmin
    _ScheduleForm = forms.ModelForm

DELIVERIES_SHOWN = 20
TICKS_SHOWN = 30


def recent_table(columns: tuple[str, ...], rows: Any) -> SafeString:
    """The newest rows of a log (deliveries, ticks) as a small table; values are escaped."""
    rows = list(rows)
    if not rows:
        return format_html("<p>{}</p>", "None yet.")
    head = format_html_join("", "<th>{}</th>", ((column,) for column in columns))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(WebhookTrigger)
class WebhookTriggerAdmin(_WebhookAdmin):
    list_display = [
        "name",
        "workflow",
        "owner",
        "mode",
        "require_signature",
        "token_prefix",
        "revoked_at",
        "created_at",
    ]
    list_filter = ["mode", "require_signature", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "token_prefix", "workflow__name", "owner__username"]
    list_select_related = ["workflow", "owner"]
    # Hashes and ciphertexts tell a person nothing and must not be edited by hand.
    exclude = ["token_hash", "previous_token_hash", "encrypted_secret", "previous_encrypted_secret"]
    readonly_fields = [
        "owner",
        "workflow",
        "token_prefix",
        "previous_token_expires_at",
        "previous_secret_expires_at",
        "revoked_at",
        "mapping",
        "response",
        "recent_deliveries",
    ]
    actions = ["send_test", "revoke", "rotate_token"]
    mapping = json_display("input_mapping")
    response = json_display("response_template")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made through the API or the studio, where the token is shown once

    @admin.display(description=f"newest {DELIVERIES_SHOWN} deliveries")
    def recent_deliveries(self, obj: WebhookTrigger) -> SafeString:
        newest = obj.deliveries.order_by("-received_at")[:DELIVERIES_SHOWN]
        return recent_table(
            ("received", "source", "status", "error", "execution", "latency (ms)", "body"),
            (
                (
                    to_the_millisecond(d.received_at),
                    d.source,
                    d.response_status,
                    d.error_code or "-",
                    d.execution_id or "-",
                    d.latency_ms,
                    d.body_preview[:200],
                )
                for d in newest
            ),
        )

    def save_model(self, request: HttpRequest, obj: WebhookTrigger, form: Any, change: bool) -> None:
        values = {name: getattr(obj, name) for name in form.changed_data if name in webhooks.EDITABLE_FIELDS}
        try:
            _, secret = webhooks.webhook_update(trigger=WebhookTrigger.objects.get(pk=obj.pk), **values)
        except AppError as exc:
            self.message_user(request, f"Not saved: {exc.message} {exc.details or ''}", messages.ERROR)
            return
        if secret:
            self.message_user(request, f"New signing secret (shown once): {secret}", messages.WARNING)

    @admin.action(description="Send a test delivery (an empty JSON body, no signature needed)")
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookTrigger]) -> None:
        for trigger in queryset:
            delivery = deliver_test(trigger, {})
            outcome = f"execution {delivery.execution_id}" if delivery.execution_id else delivery.error_code
            level = messages.SUCCESS if delivery.execution_id else messages.WARNING
            self.message_user(request, f"{trigger.name}: {delivery.response_status}, {outcome}", level)

    @admin.action(description="Revoke: every token answers 404")
    def revoke(self, request: HttpRequest, queryset: QuerySet[WebhookTrigger]) -> None:
        for trigger in queryset:
            webhooks.webhook_revoke(trigger=trigger)
        self.message_user(request, f"Revoked {queryset.count()} hook(s).", messages.SUCCESS)

    @admin.action(description="Rotate the token (the old one stops at once)")
    def rotate_token(self, request: HttpRequest, queryset: QuerySet[WebhookTrigger]) -> None:
        for trigger in queryset:
            _, token = webhooks.webhook_rotate_token(trigger=trigger)
            url = request.build_absolute_uri(f"/hooks/{token}")
            self.message_user(request, f"{trigger.name}: new URL (shown once): {url}", messages.WARNING)


class ScheduleAdminForm(_ScheduleForm):
    class Meta:
        model = Schedule
        fields = ["name", *schedules.EDITABLE_FIELDS[1:]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        schedule = Schedule(**{k: v for k, v in data.items() if k in schedules.EDITABLE_FIELDS})
        schedule.cron = schedule.cron or ""
        try:
            schedules.check_schedule(schedule)
        except AppError as exc:
            for field, problems in (exc.details or {}).items():
                self.add_error(field if field in self.fields else None, problems)
        return data


@admin.register(Schedule)
class ScheduleAdmin(_ScheduleAdmin):
    form = ScheduleAdminForm
    list_display = ["name", "workflow", "owner", "when", "state", "next_fire", "overlap", "catch_up"]
    list_filter = ["is_paused", "overlap", "catch_up"]
    search_fields = ["name", "workflow__name", "owner__username"]
    list_select_related = ["workflow", "owner"]
    readonly_fields = ["state", "stopped", "next_fire", "queued_fire_at", "last_execution", "recent_ticks"]
    actions = ["run_now", "pause", "resume"]
    next_fire = time_display("next_fire_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made through the API, on one of its owner's workflows

    @admin.display(description=f"newest {TICKS_SHOWN} ticks")
    def recent_ticks(self, obj: Schedule) -> SafeString:
        newest = obj.ticks.order_by("-scheduled_at", "-id")[:TICKS_SHOWN]
        return recent_table(
            ("scheduled", "outcome", "count", "execution", "detail"),
            ((to_the_millisecond(t.scheduled_at), t.outcome, t.count, t.execution_id or "-", t.detail) for t in newest),
        )

    @admin.display(description="when")
    def when(self, obj: Schedule) -> str:
        return f"{obj.cron} ({obj.timezone})" if obj.cron else f"every {obj.interval_s} s"

    @admin.display(description="state")
    def state(self, obj: Schedule) -> str:
        return schedule_state(obj)

    @admin.display(description="stopped because")
    def stopped(self, obj: Schedule) -> str:
        return schedule_stop_reason(obj) or "-"

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        schedules.schedule_update(schedule=Schedule.objects.get(pk=obj.pk), **values)

    @admin.action(description="Run now (the overlap policy does not apply)")
    def run_now(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset.select_related("workflow", "owner"):
            try:
                execution = fire_now(schedule)
            except AppError as exc:
                self.message_user(request, f"{schedule.name}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{schedule.name}: started execution {execution.id}.", messages.SUCCESS)

    @admin.action(description="Pause")
    def pause(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset:
            schedules.schedule_pause(schedule=schedule)
        self.message_user(request, f"Paused {queryset.count()} schedule(s).", messages.SUCCESS)

    @admin.action(description="Resume from the next future tick")
    def resume(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset.select_related("workflow"):
            try:
                schedules.schedule_resume(schedule=schedule)
            except AppError as exc:
                self.message_user(request, f"{schedule.name}: {exc.message}", messages.ERROR)
