"""One node task: claim the node run, run the node, record the outcome.

A task for a node that is already finished, not ready, or whose lease another worker
holds does nothing, so a message delivered twice changes nothing (DESIGN §6)."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core import heartbeat
from executions_app import events
from executions_app.engine import announce, sql, sql_postgres
from executions_app.engine.complete import Outcome, finish_node
from executions_app.engine.context import HeldEvents, build_context
from executions_app.engine.errors import NodeError, classify
from executions_app.engine.output_check import check_output_size
from executions_app.engine.publish import publish_for
from executions_app.engine.retry import longest_backoff_s, schedule_retry
from executions_app.models import ACTIVE_EXECUTION_STATUSES, ExecutionStatus, NodeRunStatus
from workflows_app.nodes.base import DeferredWrite
from workflows_app.selectors import graph_for_version

logger = logging.getLogger(__name__)

LIMITS = settings.SWITCHBOARD
# A delayed retry message may arrive a little before its row's ready_at (clock skew
# between the publishing and the consuming process).
READY_TOLERANCE = timedelta(seconds=2)


def run_node(node_run_id: int, lease_s: float | None = None) -> None:
    """`lease_s`, sent with the task by the engine, lets PostgreSQL claim a ready node and
    read what running it needs in one statement; without it the general path runs."""
    claimed = claim_ready_node(node_run_id, lease_s) if lease_s and connection.vendor == "postgresql" else None
    if claimed is None:
        claimed = fetch_and_claim(node_run_id)
        if claimed is None:
            return
    row, graph, attempt = claimed
    spec = graph.nodes[row["node_id"]]
    timeout_s = spec.timeout_s or LIMITS["DEFAULT_NODE_TIMEOUT_S"]
    node_running = events.node_event(row["node_id"], NodeRunStatus.RUNNING, attempt=attempt, at=time.time())
    # The `running` event goes out now, or with the result (Node.in_process), or in the
    # node's own first Redis round trip (Node.announces_start) if it makes one.
    held = HeldEvents(row["execution_id"], [])
    if graph.parents(row["node_id"]) or not mark_execution_running(row["execution_id"], [node_running]):
        if spec.node.in_process or spec.node.announces_start:
            held = HeldEvents(row["execution_id"], [node_running])
        else:
            events.emit_now(row["execution_id"], [node_running])

    started = time.monotonic()
    announce_start = held.add_to if held.held and spec.node.announces_start else None
    deadline = started + node_time_budget(row, timeout_s)
    ctx = build_context(row, graph, deadline=deadline, announce_start=announce_start)
    try:
        run_built_node(node_run_id, row, graph, attempt, ctx, started, held)
    finally:
        for callback in ctx.after_record:  # the node's bookkeeping, once its result is recorded
            try:
                callback()
            except Exception:  # one failing must neither stop the others nor hide the run's error
                logger.warning("bookkeeping after node run %s failed", node_run_id, exc_info=True)


def run_built_node(
    node_run_id: int, row: dict, graph: Any, attempt: int, ctx: Any, started: float, held: HeldEvents
) -> None:
    """Runs the claimed node with its context and records the outcome, or schedules a retry.
    `held`: the node's `running` event, when it has not gone out yet."""
    spec = graph.nodes[row["node_id"]]
    try:
        output = spec.node.run(ctx)
        if not isinstance(output, DeferredWrite):
            check_output_size(output)
        outcome = Outcome(NodeRunStatus.COMPLETED, output=output)
    except Exception as exc:
        error = classify(exc)
        entries = attempt_entries(attempt, started, ctx, error_code=error.code)
        if error.retryable and attempt < spec.retry.max_attempts:
            events.emit_now(row["execution_id"], held.unsent())
            schedule_retry(
                execution_id=row["execution_id"],
                node_id=row["node_id"],
                node_run_id=node_run_id,
                attempt=attempt,
                attempt_log=row["attempt_log"],
                entries=entries,
                error=error.as_dict(),
                delay_s=backoff_delay(spec.retry, attempt, error.retry_after_s),
                publish=publish_for(node_run_id, spec),
            )
            return
        outcome = failure_outcome(spec, error, entries)
    else:
        outcome.attempt_entries = attempt_entries(attempt, started, ctx)

    def on_write_error(exc: Exception) -> Outcome:
        error = classify(exc)
        return failure_outcome(spec, error, attempt_entries(attempt, started, ctx, error_code=error.code))

    finish_node(
        node_run_id=node_run_id,
        execution_id=row["execution_id"],
        attempt=attempt,
        attempt_log=row["attempt_log"],
        graph=graph,
        node_id=row["node_id"],
        outcome=outcome,
        on_write_error=on_write_error,
        started_events=held.unsent(),
    )


def claim_ready_node(node_run_id: int, lease_s: float) -> tuple[dict, Any, int] | None:
    now = timezone.now()
    row = sql_postgres.claim_ready_and_fetch(
        node_run_id,
        now=now,
        ready_by=now + READY_TOLERANCE,
        lease_until=now + timedelta(seconds=lease_s),
        holder=heartbeat.holder_identity(),
    )
    if row is None:
        return None
    return row, graph_for_version(row["execution__version_id"]), row["attempts"]


def fetch_and_claim(node_run_id: int) -> tuple[dict, Any, int] | None:
    """The general path: read the node run, then claim it if it is ready, or take it over
    from a holder that is gone. None when there is nothing to run."""
    row = sql.fetch_node_row(node_run_id, timezone.now())
    if row is None or row["execution__status"] not in ACTIVE_EXECUTION_STATUSES:
        return None  # pruned, or the execution ended: nothing more starts
    graph = graph_for_version(row["execution__version_id"])
    spec = graph.nodes[row["node_id"]]
    dead_holder = None
    if row["status"] == NodeRunStatus.RUNNING:
        dead_holder = lease_lost_by(row)
        if dead_holder is None:
            return None  # a live worker holds the lease
        if row["attempts"] >= max(spec.retry.max_attempts, LIMITS["WORKER_LOST_MAX_ATTEMPTS"]):
            fail_worker_lost(node_run_id, row, graph)
            return None
    timeout_s = spec.timeout_s or LIMITS["DEFAULT_NODE_TIMEOUT_S"]
    attempt = claim_node_run(
        node_run_id, row["attempts"], lease_s=timeout_s + LIMITS["LEASE_GRACE_S"], dead_holder=dead_holder
    )
    return None if attempt is None else (row, graph, attempt)


def failure_outcome(spec: Any, error: NodeError, entries: list[dict]) -> Outcome:
    """A node failed for good: with on_error "continue" its output carries the error."""
    continue_on_error = spec.on_error == "continue"
    return Outcome(
        NodeRunStatus.FAILED,
        output={"error": error.as_dict()} if continue_on_error else None,
        error=error.as_dict(),
        continue_on_error=continue_on_error,
        attempt_entries=entries,
    )


def claim_node_run(
    node_run_id: int, seen_attempts: int, *, lease_s: float, dead_holder: str | None = None
) -> int | None:
    """The claim: one conditional update, checked by row count. Wins for a ready pending
    node, or a running one whose holder is gone (lease expired, or its worker stopped
    beating). Returns the attempt number, or None when another worker has the node."""
    now = timezone.now()
    won = sql.claim(
        node_run_id,
        seen_attempts,
        now=now,
        ready_by=now + READY_TOLERANCE,
        lease_until=now + timedelta(seconds=lease_s),
        holder=heartbeat.holder_identity(),
        dead_holder=dead_holder,
    )
    return seen_attempts + 1 if won else None


def lease_lost_by(row: dict) -> str | None:
    """The holder of a running node's lease if that holder is gone, else None."""
    holder = row["claimed_by"] or ""
    if row["lease_expired"]:
        return holder or "expired"
    return holder if holder and holder in heartbeat.dead_holders({holder}) else None


def fail_worker_lost(node_run_id: int, row: dict, graph: Any) -> None:
    """A node whose worker keeps dying fails when its attempts run out."""
    spec = graph.nodes[row["node_id"]]
    message = f"The worker running this node stopped {row['attempts']} time(s); no attempts left."
    entries = [{"n": row["attempts"], "error_code": "worker_lost", "latency_ms": None}]
    finish_node(
        node_run_id=node_run_id,
        execution_id=row["execution_id"],
        attempt=row["attempts"],
        attempt_log=row["attempt_log"],
        graph=graph,
        node_id=row["node_id"],
        outcome=failure_outcome(spec, NodeError("worker_lost", message, retryable=False), entries),
    )


def mark_execution_running(execution_id: Any, node_events: list[dict]) -> bool:
    now = timezone.now()
    if sql.start_execution(execution_id, now):
        announce.execution_status_changed(execution_id, ExecutionStatus.RUNNING, now, node_events)
        return True
    return False


def node_time_budget(row: dict, timeout_s: float) -> float:
    """Seconds this attempt may take: the node's timeout, never past the execution's
    deadline (a node started late gets what is left)."""
    deadline_at = row.get("execution__deadline_at")
    if deadline_at is None:
        return timeout_s
    return max(0.0, min(timeout_s, (deadline_at - timezone.now()).total_seconds()))


def attempt_entries(attempt: int, started: float, ctx: Any, error_code: str | None = None) -> list[dict]:
    """This claim's lines of attempt_log: one per outside call the node reported (an AI
    node's providers), or one for the whole attempt."""
    calls = list(getattr(ctx, "attempt_calls", None) or [])
    if not calls:
        entry: dict[str, Any] = {"latency_ms": round((time.monotonic() - started) * 1000, 2)}
        if error_code:
            entry["error_code"] = error_code
        calls = [entry]
    elif error_code and not calls[-1].get("error_code"):
        calls[-1] = {**calls[-1], "error_code": error_code}
    return [{**call, "n": attempt} for call in calls]


def backoff_delay(retry: Any, attempt: int, retry_after_s: float | None) -> float:
    """Exponential backoff with jitter, capped; never sooner than a Retry-After, which is
    itself capped so a waiting message stays inside the broker's visibility timeout."""
    base = min(retry.max_backoff_s, retry.backoff_s * (2 ** (attempt - 1)))
    delay = base * random.uniform(0.5, 1.0)
    return min(max(delay, retry_after_s or 0.0), longest_backoff_s())
