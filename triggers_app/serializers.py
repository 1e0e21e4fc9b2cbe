"""Request and response shapes of the triggers API. A hook's token and signing secret go
out once, in the answer that made them; never again."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import StrictSerializer
from triggers_app.models import CatchUp, Delivery, Overlap, Schedule, ScheduleTick, WebhookMode, WebhookTrigger
from triggers_app.schedules.services import timing_of
from triggers_app.selectors import schedule_state, schedule_stop_reason
from triggers_app.webhooks.services import MAX_ROTATION_OVERLAP_S, MAX_SYNC_TIMEOUT_S, RESPONSE_HEADER_NAMES

HEADER_NAME = r"^[A-Za-z0-9-]{1,100}$"
UPCOMING_FIRE_TIMES = 5


@extend_schema_field(
    {
        "type": "object",
        "propertyNames": {"enum": RESPONSE_HEADER_NAMES},
        "additionalProperties": {"type": "string", "maxLength": 1000},
    }
)
class ResponseHeadersField(serializers.DictField):
    """Headers a sync hook's answer may carry: names from the allow-list (any case)."""

    child = serializers.CharField(max_length=1000, allow_blank=True)


class ResponseTemplateInput(StrictSerializer):
    """A sync hook's answer: JSON or text only, headers from an allow-list; `body` is a
    template over `outputs`, `execution`, `body`, `query`, `headers` and `trigger`."""

    status = serializers.IntegerField(min_value=200, max_value=299, default=200)
    content_type = serializers.ChoiceField(choices=["json", "text"], default="json")
    body = serializers.JSONField(required=False, default="{{ outputs }}")
    headers = ResponseHeadersField(required=False, default=dict)


class WebhookInput(StrictSerializer):
    """A webhook trigger's settings (POST; PATCH takes any of them but `workflow_id`)."""

    workflow_id = serializers.UUIDField()
    name = serializers.CharField(max_length=200)
    require_signature = serializers.BooleanField(
        default=True, help_text="Refuse deliveries without a valid `X-Switchboard-Signature`. Off only on purpose."
    )
    signature_tolerance_s = serializers.IntegerField(
        min_value=10, max_value=3600, default=300, help_text="How old a signature's timestamp may be."
    )
    mode = serializers.ChoiceField(choices=WebhookMode.choices, default=WebhookMode.ASYNC)
    sync_timeout_s = serializers.FloatField(
        min_value=0.1,
        max_value=MAX_SYNC_TIMEOUT_S,
        default=10,
        help_text="A sync hook's wait; past it the answer is 202 with a status URL.",
    )
    input_mapping = serializers.DictField(
        required=False,
        default=dict,
        help_text="`{input name: template}` over `body`, `query`, `headers`, `trigger`; "
        "empty: the JSON body is the inputs.",
    )
    response_template = ResponseTemplateInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="A sync hook's answer; null: the execution's outputs as JSON.",
    )
    accept_text = serializers.BooleanField(default=False, help_text="Take a body that is not JSON, as `body` text.")
    exposed_headers = serializers.ListField(
        child=serializers.RegexField(HEADER_NAME), max_length=20, required=False, default=list
    )
    delivery_id_header = serializers.RegexField(
        HEADER_NAME,
        required=False,
        allow_blank=True,
        default="",
        help_text="A header naming each delivery (`X-GitHub-Delivery`): one execution per value for 24 h. "
        "`Idempotency-Key` is always read.",
    )
    rate_limit_per_minute = serializers.IntegerField(min_value=1, max_value=100_000, default=120)
    max_body_bytes = serializers.IntegerField(min_value=1, max_value=1024 * 1024, default=1024 * 1024)

    def validate_exposed_headers(self, value: list[str]) -> list[str]:
        return sorted({name.lower() for name in value})


class WebhookUpdateInput(WebhookInput):
    """PATCH: any of a hook's settings; the workflow stays."""

    workflow_id = serializers.UUIDField(read_only=True)


class LastDelivery(serializers.Serializer[Delivery]):
    id = serializers.UUIDField()
    received_at = serializers.DateTimeField()
    response_status = serializers.IntegerField()
    error_code = serializers.CharField()


class WebhookOutput(serializers.ModelSerializer[WebhookTrigger]):
    workflow_id = serializers.UUIDField(read_only=True)
    token_prefix = serializers.CharField(read_only=True, help_text="The token's first characters, to tell hooks apart.")
    has_secret = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(help_text="`active` or `revoked`.")

    class Meta:
        model = WebhookTrigger
        fields = [
            "id",
            "workflow_id",
            "name",
            "state",
            "token_prefix",
            "require_signature",
            "has_secret",
            "signature_tolerance_s",
            "mode",
            "sync_timeout_s",
            "input_mapping",
            "response_template",
            "accept_text",
            "exposed_headers",
            "delivery_id_header",
            "rate_limit_per_minute",
            "max_body_bytes",
            "previous_token_expires_at",
            "previous_secret_expires_at",
            "revoked_at",
            "created_at",
            "updated_at",
        ]

    def get_has_secret(self, trigger: WebhookTrigger) -> bool:
        return bool(trigger.encrypted_secret)

    def get_state(self, trigger: WebhookTrigger) -> str:
        return "revoked" if trigger.revoked_at else "active"


class WebhookSecretsOutput(WebhookOutput):
    """The answer that made a token or a secret: the only time either is shown."""

    token = serializers.SerializerMethodField(help_text="Shown once: only its hash is kept.")
    url = serializers.SerializerMethodField(help_text="Where to POST deliveries. Shown once, like the token.")
    secret = serializers.SerializerMethodField(help_text="The signing secret, shown once (null: not changed).")

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "token", "url", "secret"]

    def get_token(self, trigger: WebhookTrigger) -> str | None:
        token: str | None = self.context.get("token")
        return token

    def get_url(self, trigger: WebhookTrigger) -> str | None:
        url: str | None = self.context.get("url")
        return url

    def get_secret(self, trigger: WebhookTrigger) -> str | None:
        secret: str | None = self.context.get("secret")
        return secret


class RotationInput(StrictSerializer):
    """How long the old token or secret keeps working beside the new one."""

    overlap_s = serializers.IntegerField(min_value=0, max_value=MAX_ROTATION_OVERLAP_S, default=0)


class TestDeliveryInput(StrictSerializer):
    """A delivery the owner sends from the API: the body, as a caller would send it."""

    body = serializers.JSONField(default=dict)


class DeliveryOutput(serializers.ModelSerializer[Delivery]):
    execution_id = serializers.UUIDField(read_only=True, allow_null=True)
    duplicate_of: serializers.PrimaryKeyRelatedField[Delivery] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "source",
            "received_at",
            "response_status",
            "error_code",
            "execution_id",
            "dedup_key",
            "duplicate_of",
            "latency_ms",
            "headers_preview",
            "body_preview",
        ]


class ScheduleInput(StrictSerializer):
    """A schedule's settings: exactly one of `cron` and `interval_s` (POST; PATCH takes any
    of them but `workflow_id`)."""

    workflow_id = serializers.UUIDField()
    name = serializers.CharField(max_length=200)
    cron = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="5 fields (`30 2 * * *`), 6 with seconds first, or an alias (`@hourly`, `@daily`…).",
    )
    interval_s = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    timezone = serializers.CharField(max_length=64, default="UTC", help_text="An IANA timezone: `Europe/Berlin`.")
    inputs = serializers.DictField(
        required=False, default=dict, help_text="The inputs of each run; templates see `trigger.scheduled_at`."
    )
    overlap = serializers.ChoiceField(choices=Overlap.choices, default=Overlap.SKIP)
    catch_up = serializers.ChoiceField(choices=CatchUp.choices, default=CatchUp.SKIP_MISSED)
    misfire_grace_s = serializers.IntegerField(min_value=0, max_value=86_400, default=60)


class ScheduleUpdateInput(ScheduleInput):
    """PATCH: any of a schedule's settings; the workflow stays."""

    workflow_id = serializers.UUIDField(read_only=True)


class ScheduleOutput(serializers.ModelSerializer[Schedule]):
    workflow_id = serializers.UUIDField(read_only=True)
    last_execution_id = serializers.UUIDField(read_only=True, allow_null=True)
    state = serializers.SerializerMethodField(help_text="`active`, `paused` or `stopped` (see `stopped_reason`).")
    stopped_reason = serializers.SerializerMethodField()
    next_fire_times = serializers.SerializerMethodField(help_text="The next 5 fire times (UTC), while active.")

    class Meta:
        model = Schedule
        fields = [
            "id",
            "workflow_id",
            "name",
            "state",
            "stopped_reason",
            "cron",
            "interval_s",
            "timezone",
            "inputs",
            "overlap",
            "catch_up",
            "misfire_grace_s",
            "is_paused",
            "next_fire_at",
            "next_fire_times",
            "queued_fire_at",
            "last_execution_id",
            "created_at",
            "updated_at",
        ]

    def get_state(self, schedule: Schedule) -> str:
        return schedule_state(schedule)

    def get_stopped_reason(self, schedule: Schedule) -> str:
        return schedule_stop_reason(schedule)

    def get_next_fire_times(self, schedule: Schedule) -> list[Any]:
        if schedule_state(schedule) != "active" or schedule.next_fire_at is None:
            return []
        first = schedule.next_fire_at
        after = timing_of(schedule).upcoming(max(first, timezone.now()), UPCOMING_FIRE_TIMES - 1)
        return [serializers.DateTimeField().to_representation(t) for t in [first, *after]]


class TickOutput(serializers.ModelSerializer[ScheduleTick]):
    execution_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = ScheduleTick
        fields = [
            "scheduled_at",
            "last_scheduled_at",
            "count",
            "outcome",
            "execution_id",
            "detail",
            "recorded_at",
            "start_lag_ms",
        ]
