"""One node task: claim the node run, run the node, record the outcome.

A task for a node that is already finished, not ready, or whose lease another worker
holds does nothing, so a message delivered twice changes nothing (DESIGN §6)."""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from executions_app import status_cache
from executions_app.engine.complete import Outcome, finish_node, schedule_retry
from executions_app.engine.context import build_context
from executions_app.engine.errors import NodeFailure, classify
from executions_app.models import ACTIVE_EXECUTION_STATUSES, Execution, ExecutionStatus, NodeRun, NodeRunStatus
from workers import heartbeat
from workflows_app.selectors import graph_for_version

logger = logging.getLogger(__name__)

LIMITS = settings.SWITCHBOARD
# A delayed retry message may arrive a little before its row's ready_at (clock skew
# between the publishing and the consuming process).
READY_TOLERANCE = timedelta(seconds=2)

_ROW_FIELDS = (
    "execution_id",
    "node_id",
    "status",
    "attempts",
    "attempt_log",
    "ready_at",
    "lease_until",
    "claimed_by",
    "execution__status",
    "execution__inputs",
    "execution__version_id",
    "execution__version__number",
    "execution__workflow_id",
    "execution__workflow__name",
)


def run_node(node_run_id: int) -> None:
    row = NodeRun.objects.filter(id=node_run_id).values(*_ROW_FIELDS).first()
    if row is None or row["execution__status"] not in ACTIVE_EXECUTION_STATUSES:
        return  # pruned, or the execution ended: nothing more starts
    graph = graph_for_version(row["execution__version_id"])
    spec = graph.nodes[row["node_id"]]
    dead_holder = None
    if row["status"] == NodeRunStatus.RUNNING:
        dead_holder = lease_lost_by(row)
        if dead_holder is None:
            return  # a live worker holds the lease
        if row["attempts"] >= spec.retry.max_attempts:
            fail_worker_lost(node_run_id, row, graph)
            return
    timeout_s = spec.timeout_s or LIMITS["DEFAULT_NODE_TIMEOUT_S"]
    attempt = claim_node_run(
        node_run_id, row["attempts"], lease_s=timeout_s + LIMITS["LEASE_GRACE_S"], dead_holder=dead_holder
    )
    if attempt is None:
        return
    if not graph.parents(row["node_id"]):
        mark_execution_running(row["execution_id"])

    started = time.monotonic()
    ctx = build_context(row, graph, deadline=started + timeout_s)
    try:
        output = spec.node.run(ctx)
        check_output_size(output)
        outcome = Outcome(NodeRunStatus.COMPLETED, output=output)
    except Exception as exc:
        error = classify(exc)
        entry = attempt_entry(attempt, started, ctx, error_code=error.code)
        if error.retryable and attempt < spec.retry.max_attempts:
            delay = backoff_delay(spec.retry, attempt, error.retry_after_s)
            schedule_retry(
                node_run_id=node_run_id,
                attempt=attempt,
                attempt_log=row["attempt_log"],
                entry=entry,
                error=error.as_dict(),
                delay_s=delay,
                queue=spec.node.queue,
            )
            return
        continue_on_error = spec.on_error == "continue"
        outcome = Outcome(
            NodeRunStatus.FAILED,
            output={"error": error.as_dict()} if continue_on_error else None,
            error=error.as_dict(),
            continue_on_error=continue_on_error,
        )
        entry_fields = entry
    else:
        entry_fields = attempt_entry(attempt, started, ctx)
    outcome.attempt_entry = entry_fields
    finish_node(
        node_run_id=node_run_id,
        execution_id=row["execution_id"],
        attempt=attempt,
        attempt_log=row["attempt_log"],
        graph=graph,
        node_id=row["node_id"],
        outcome=outcome,
    )


def claim_node_run(
    node_run_id: int, seen_attempts: int, *, lease_s: float, dead_holder: str | None = None
) -> int | None:
    """The claim: one conditional update, checked by row count. Wins for a ready pending
    node, or a running one whose holder is gone (lease expired, or its worker stopped
    beating). Returns the attempt number, or None when another worker has the node."""
    now = timezone.now()
    claimable = Q(status=NodeRunStatus.PENDING, ready_at__lte=now + READY_TOLERANCE) | Q(
        status=NodeRunStatus.RUNNING, lease_until__lt=now
    )
    if dead_holder:
        claimable |= Q(status=NodeRunStatus.RUNNING, claimed_by=dead_holder)
    won = NodeRun.objects.filter(claimable, id=node_run_id, attempts=seen_attempts).update(
        status=NodeRunStatus.RUNNING,
        attempts=F("attempts") + 1,
        lease_until=now + timedelta(seconds=lease_s),
        claimed_by=heartbeat.holder_identity(),
        started_at=Coalesce(F("started_at"), now),
    )
    return seen_attempts + 1 if won else None


def lease_lost_by(row: dict) -> str | None:
    """The holder of a running node's lease if that holder is gone, else None."""
    holder = row["claimed_by"] or ""
    if row["lease_until"] is not None and row["lease_until"] < timezone.now():
        return holder or "expired"
    return holder if holder and holder in heartbeat.dead_holders({holder}) else None


def fail_worker_lost(node_run_id: int, row: dict, graph: Any) -> None:
    """A node whose worker keeps dying fails when its attempts run out."""
    spec = graph.nodes[row["node_id"]]
    error = {
        "code": "worker_lost",
        "message": f"The worker running this node stopped {row['attempts']} time(s); no attempts left.",
    }
    continue_on_error = spec.on_error == "continue"
    finish_node(
        node_run_id=node_run_id,
        execution_id=row["execution_id"],
        attempt=row["attempts"],
        attempt_log=row["attempt_log"],
        graph=graph,
        node_id=row["node_id"],
        outcome=Outcome(
            NodeRunStatus.FAILED,
            output={"error": error} if continue_on_error else None,
            error=error,
            continue_on_error=continue_on_error,
            attempt_entry={"n": row["attempts"], "error_code": "worker_lost", "latency_ms": None},
        ),
    )


def mark_execution_running(execution_id: Any) -> None:
    now = timezone.now()
    if Execution.objects.filter(id=execution_id, status=ExecutionStatus.QUEUED).update(
        status=ExecutionStatus.RUNNING, started_at=now
    ):
        status_cache.write_after_commit(execution_id, {"status": ExecutionStatus.RUNNING, "finished_at": None})


def check_output_size(output: Any) -> None:
    try:
        size = len(json.dumps(output, separators=(",", ":")))
    except (TypeError, ValueError) as exc:
        raise NodeFailure("output_not_json", f"The node's output is not JSON: {exc}") from None
    if size > LIMITS["MAX_NODE_OUTPUT_BYTES"]:
        raise NodeFailure(
            "output_too_large", f"The node's output is {size} bytes; the limit is {LIMITS['MAX_NODE_OUTPUT_BYTES']}."
        )


def attempt_entry(attempt: int, started: float, ctx: Any, error_code: str | None = None) -> dict:
    entry: dict[str, Any] = {"n": attempt, "latency_ms": round((time.monotonic() - started) * 1000, 2)}
    # AI nodes tell which provider and model answered (or failed) last.
    for key in ("provider", "model"):
        value = getattr(ctx, "call_info", {}).get(key)
        if value:
            entry[key] = value
    if error_code:
        entry["error_code"] = error_code
    return entry


def backoff_delay(retry: Any, attempt: int, retry_after_s: float | None) -> float:
    """Exponential backoff with jitter, capped; never sooner than a Retry-After."""
    base = min(retry.max_backoff_s, retry.backoff_s * (2 ** (attempt - 1)))
    delay = base * random.uniform(0.5, 1.0)
    return max(delay, retry_after_s or 0.0)
