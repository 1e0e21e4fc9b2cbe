"""Executions and their node runs: the database is the truth about every run."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


ACTIVE_EXECUTION_STATUSES = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)
FINISHED_EXECUTION_STATUSES = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)

# What an execution's `trigger` starts with; the kinds with an object add `:<its id>`.
# A child execution (SUBWORKFLOW, a MAP item) is started by `parent:<parent execution id>`.
TRIGGER_KINDS = ("api", "cli", "admin", "retry", "webhook", "schedule", "parent")


class NodeRunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    # Suspended: holds no worker, no lease and no broker message until something wakes it
    # (its wake_at passes, a child execution ends, a decision arrives): engine/wakes.py.
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"


FINISHED_NODE_STATUSES = (
    NodeRunStatus.COMPLETED,
    NodeRunStatus.FAILED,
    NodeRunStatus.SKIPPED,
    NodeRunStatus.CANCELED,
)


class Execution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="executions")
    workflow = models.ForeignKey("workflows_app.Workflow", on_delete=models.CASCADE, related_name="executions")
    version = models.ForeignKey("workflows_app.WorkflowVersion", on_delete=models.PROTECT, related_name="executions")
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED)
    inputs = models.JSONField(default=dict)
    outputs = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Nodes not yet in a final state; the completion that brings it to 0 finishes the run.
    remaining_nodes = models.PositiveIntegerField(default=0)
    # NULL, not "", when absent: the unique constraint covers only executions with a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    retried_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What started it: `api`, `cli`, `admin`, `retry`, `webhook:<trigger id>`,
    # `schedule:<schedule id>` (TRIGGER_KINDS).
    trigger = models.CharField(max_length=80, default="api")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    # A child execution (SUBWORKFLOW, a MAP item): the parent's node that started it, and
    # for a MAP the item's index (0 for a SUBWORKFLOW). Ending a child wakes that node; canceling the parent
    # cancels its running children.
    # No index of its own: the unique constraint below (children only) serves every lookup
    # by parent, and a top-level execution, most of them, then costs no index entry.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", db_index=False
    )
    parent_node_id = models.CharField(max_length=64, blank=True, default="")
    parent_index = models.PositiveIntegerField(default=0)
    # How many parents up to a top-level execution (0): calls nest at most max_call_depth.
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="execution_owner_created"),
            models.Index(fields=["owner", "status", "-created_at"], name="execution_owner_status"),
            models.Index(fields=["workflow", "-created_at"], name="execution_workflow_created"),
            models.Index(fields=["status", "deadline_at"], name="execution_status_deadline"),
            models.Index(fields=["created_at"], name="execution_created"),
            models.Index(fields=["owner", "trigger", "-created_at"], name="execution_owner_trigger"),
            # Retention prunes finished executions by when they finished; a running one is
            # not in the index, so creating one costs no entry.
            models.Index(
                fields=["finished_at"], name="execution_finished", condition=models.Q(finished_at__isnull=False)
            ),
        ]
        constraints = [
            # One child per parent node and item: a parent node that starts its child again
            # (a crash between the start and its own write) finds the first one.
            models.UniqueConstraint(
                fields=["parent", "parent_node_id", "parent_index"],
                condition=models.Q(parent__isnull=False),
                name="execution_unique_child",
            ),
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="execution_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class NodeRun(models.Model):
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="node_runs")
    node_id = models.CharField(max_length=64)
    type = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=NodeRunStatus.choices, default=NodeRunStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    attempt_log = models.JSONField(default=list)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Join counters (docs/architecture.md, Execution semantics): parent edges not yet resolved, and those taken.
    pending_parents = models.PositiveIntegerField(default=0)
    taken_parents = models.PositiveIntegerField(default=0)
    # Set when the node became ready to run (or is due for a retry); the sweeper
    # re-publishes pending nodes whose ready_at is long past.
    ready_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Who holds the lease: "<host>|<worker pid>|<process pid>", checked against heartbeats.
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    reused_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Suspension (engine/suspension.py, engine/wakes.py). `attempts` counts claims and
    # fences every write; `resumes` counts the claims that resumed a waiting node rather
    # than ran its work again, so the runs the retry policy counts are attempts - resumes.
    # A waiting node says what it waits on, and is woken by the timer loop once wake_at
    # passes (a child's end or a decision sets wake_at to now). `state` is what the node
    # saved when it suspended; it gets it back when it runs again.
    resumes = models.PositiveIntegerField(default=0)
    wake_at = models.DateTimeField(null=True, blank=True)
    waiting_on = models.JSONField(null=True, blank=True)
    state = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["execution", "node_id"], name="noderun_unique_node")]
        indexes = [
            models.Index(fields=["status", "ready_at"], name="noderun_status_ready"),
            models.Index(fields=["status", "lease_until"], name="noderun_status_lease"),
            # The timer loop's query: waiting nodes by wake time, only those.
            models.Index(fields=["wake_at"], name="noderun_waiting_wake", condition=models.Q(status="waiting")),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.status})"

    @property
    def runs(self) -> int:
        """Runs of the node's work (what the API calls attempts): claims that were not resumes."""
        return self.attempts - self.resumes

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class ExecutionLog(models.Model):
    class Level(models.TextChoices):
        DEBUG = "debug"
        INFO = "info"
        WARNING = "warning"
        ERROR = "error"

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="logs")
    node_id = models.CharField(max_length=64, blank=True, default="")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["execution", "id"], name="executionlog_execution")]

    def __str__(self) -> str:
        return f"{self.level}: {self.message[:60]}"


class ApprovalLink(models.Model):
    """A signed link that decides a waiting APPROVAL once, for someone without an account.
    Only the token's SHA-256 is kept: the URL is shown to the owner once."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    node_run = models.ForeignKey(NodeRun, on_delete=models.CASCADE, related_name="approval_links")
    token_hash = models.CharField(max_length=64, unique=True)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.decision} link of node run {self.node_run_id}"
