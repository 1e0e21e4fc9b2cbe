"""What starts a workflow from the outside world: webhook triggers (an HTTP call to
`/hooks/<token>`) with their delivery log, and schedules (cron or a fixed interval) with
the outcome of every tick (docs/concepts/triggers.md)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class WebhookMode(models.TextChoices):
    ASYNC = "async"  # 202 at once, with the delivery and execution ids
    SYNC = "sync"  # waits (bounded) for the outputs; 202 with a status URL past the wait


class WebhookTrigger(models.Model):
    """A token-addressed way in. Only hashes of the token are kept; the signing secret is
    kept encrypted (HMAC needs it back). Rotation keeps the previous token or secret valid
    until its `*_expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_triggers")
    workflow = models.ForeignKey("workflows_app.Workflow", on_delete=models.CASCADE, related_name="webhook_triggers")
    name = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    # The token's first characters, shown in lists so an owner can tell hooks apart.
    token_prefix = models.CharField(max_length=16)
    previous_token_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    previous_token_expires_at = models.DateTimeField(null=True, blank=True)
    # Unsigned hooks only when the owner says so (require_signature=False).
    require_signature = models.BooleanField(default=True)
    encrypted_secret = models.TextField(blank=True, default="")
    previous_encrypted_secret = models.TextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    signature_tolerance_s = models.PositiveIntegerField(default=300)
    mode = models.CharField(max_length=8, choices=WebhookMode.choices, default=WebhookMode.ASYNC)
    sync_timeout_s = models.FloatField(default=10)
    # {input name: template} over `body`, `query`, `headers` and `trigger`; empty: the
    # JSON body is the inputs.
    input_mapping = models.JSONField(default=dict, blank=True)
    # A sync hook's answer: {"status", "content_type" (json|text), "body", "headers"}.
    response_template = models.JSONField(null=True, blank=True)
    accept_text = models.BooleanField(default=False)
    # Request headers the mapping may read (lower case); signature headers never.
    exposed_headers = models.JSONField(default=list, blank=True)
    # A header naming each delivery (X-GitHub-Delivery); Idempotency-Key is always read.
    delivery_id_header = models.CharField(max_length=100, blank=True, default="")
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    max_body_bytes = models.PositiveIntegerField(default=1024 * 1024)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="webhook_owner_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"


class DeliverySource(models.TextChoices):
    HTTP = "http"
    TEST = "test"  # sent by the owner from the API or the admin
    REPLAY = "replay"  # a logged delivery sent again by the owner


class Delivery(models.Model):
    """One call to a hook, accepted or refused, with what it answered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trigger = models.ForeignKey(WebhookTrigger, on_delete=models.CASCADE, related_name="deliveries")
    source = models.CharField(max_length=8, choices=DeliverySource.choices, default=DeliverySource.HTTP)
    received_at = models.DateTimeField(auto_now_add=True)
    # The HTTP status answered, and the error code when it was an error.
    response_status = models.PositiveSmallIntegerField(default=202)
    error_code = models.CharField(max_length=64, blank=True, default="")
    execution = models.ForeignKey(
        "executions_app.Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Idempotency-Key or the trigger's delivery id header: one execution per key for 24 h.
    dedup_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    latency_ms = models.PositiveIntegerField(default=0)
    # What the mapping read (body, query, exposed headers), for a replay; and a redacted,
    # truncated preview for people.
    request = models.JSONField(null=True, blank=True)
    headers_preview = models.JSONField(default=dict, blank=True)
    body_preview = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["trigger", "-received_at"], name="delivery_trigger_received"),
            models.Index(fields=["received_at"], name="delivery_received"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "dedup_key"],
                condition=models.Q(dedup_key__isnull=False),
                name="delivery_unique_dedup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.response_status})"


class Overlap(models.TextChoices):
    SKIP = "skip"  # no new run while the previous one of this schedule runs
    QUEUE = "queue"  # hold one tick until the previous run ends
    ALLOW = "allow"


class CatchUp(models.TextChoices):
    SKIP_MISSED = "skip_missed"  # the next future tick only (late ticks within misfire_grace_s still fire)
    RUN_ONCE = "run_once"  # one run for everything missed


class Schedule(models.Model):
    """Runs a workflow on a cron expression (in an IANA timezone) or a fixed interval.
    `next_fire_at` is the claim: the process that moves it on creates the tick's
    execution in the same transaction. NULL while paused or stopped."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedules")
    workflow = models.ForeignKey("workflows_app.Workflow", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200)
    cron = models.CharField(max_length=120, blank=True, default="")
    interval_s = models.PositiveIntegerField(null=True, blank=True)
    # Interval ticks fall on anchor_at + k * interval_s (set when the interval is).
    anchor_at = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # Rendered with `trigger.scheduled_at` at each tick.
    inputs = models.JSONField(default=dict, blank=True)
    overlap = models.CharField(max_length=8, choices=Overlap.choices, default=Overlap.SKIP)
    catch_up = models.CharField(max_length=16, choices=CatchUp.choices, default=CatchUp.SKIP_MISSED)
    misfire_grace_s = models.PositiveIntegerField(default=60)
    is_paused = models.BooleanField(default=False)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    # A tick held by overlap `queue` until the previous run ends (at most one).
    queued_fire_at = models.DateTimeField(null=True, blank=True)
    last_execution = models.ForeignKey(
        "executions_app.Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why a schedule stopped by itself (its workflow archived or inactive); empty while it runs.
    stopped_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_fire_at"], name="schedule_next_fire"),
            models.Index(fields=["owner", "-created_at"], name="schedule_owner_created"),
        ]

    def __str__(self) -> str:
        return self.name


class TickOutcome(models.TextChoices):
    FIRED = "fired"
    SKIPPED = "skipped"  # overlap `skip`: the previous run was still going
    QUEUED = "queued"  # overlap `queue`: held until the previous run ends
    MISSED = "missed"  # past its misfire grace after downtime (`count` ticks)
    FAILED = "failed"  # the execution could not be created (inputs, workflow gone)


class ScheduleTick(models.Model):
    """What became of a schedule's tick: nothing is dropped without a row saying so."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="ticks")
    scheduled_at = models.DateTimeField()
    # A run of missed ticks is one row: from scheduled_at to last_scheduled_at, `count` ticks.
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=1)
    outcome = models.CharField(max_length=8, choices=TickOutcome.choices)
    execution = models.ForeignKey(
        "executions_app.Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=500, blank=True, default="")
    recorded_at = models.DateTimeField(auto_now_add=True)
    # From scheduled_at to the execution's start (its first node claimed by a worker),
    # filled in by the clock once the execution has started (schedules/lag.py).
    start_lag_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [
            models.Index(fields=["schedule", "-scheduled_at"], name="tick_schedule_scheduled"),
            models.Index(fields=["recorded_at"], name="tick_recorded"),
            # The fired ticks whose start the clock has yet to see: few, however many ticks.
            models.Index(
                fields=["recorded_at"],
                condition=models.Q(outcome="fired", start_lag_ms__isnull=True),
                name="tick_start_unseen",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.scheduled_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
