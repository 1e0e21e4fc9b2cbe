"""An execution's log, read from its rows: the lines are derived from the execution and
its node runs when the log is read, so running a node costs no extra write, and merged in
time order with the lines stored as `ExecutionLog` rows (a cancel, the sweeper, a retry).

A node run keeps the time of its first start and of its end, and one `attempt_log` entry
per attempt (or per outside call): the lines of its earlier, failed attempts carry its
start time and follow its start line."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from executions_app.models import Execution, ExecutionLog, ExecutionStatus, NodeRun, NodeRunStatus

INFO, WARNING, ERROR = ExecutionLog.Level.INFO.value, ExecutionLog.Level.WARNING.value, ExecutionLog.Level.ERROR.value

# Lines at the same instant: the execution's start first, its end last.
_FIRST, _BETWEEN, _LAST = 0, 1, 2


@dataclass(frozen=True)
class LogLine:
    created_at: datetime.datetime
    level: str
    message: str
    node_id: str = ""
    attempt: int | None = None
    duration_ms: int | None = None
    error_code: str | None = None
    # A stored line's id; None for a line derived from the execution and its node runs.
    id: int | None = None


def log_lines(execution: Execution, node_runs: Iterable[NodeRun], stored: Iterable[ExecutionLog]) -> list[LogLine]:
    """Every line of the execution, oldest first."""
    placed: list[tuple[datetime.datetime, int, LogLine]] = []

    def add(rank: int, line: LogLine | None) -> None:
        if line is not None:
            placed.append((line.created_at, rank, line))

    runs = list(node_runs)
    for line in _start_lines(execution, runs):
        add(_FIRST, line)
    for run in runs:
        for line in node_lines(run):
            add(_BETWEEN, line)
    for row in stored:
        add(_BETWEEN, _stored_line(row))
    add(_LAST, _end_line(execution))
    placed.sort(key=lambda item: (item[0], item[1]))  # stable: lines of one node keep their order
    return [line for _, _, line in placed]


def _stored_line(row: ExecutionLog) -> LogLine:
    return LogLine(row.created_at, row.level, row.message, node_id=row.node_id, id=row.pk)


def _start_lines(execution: Execution, runs: list[NodeRun]) -> list[LogLine]:
    queued = f"Execution queued (workflow version {execution.version.number})."
    lines = [LogLine(execution.created_at, INFO, queued)]
    if execution.started_at:
        # The first claim of a root node marks the execution running, just after it claimed.
        first_claim = min((run.started_at for run in runs if run.started_at), default=execution.started_at)
        lines.append(LogLine(min(execution.started_at, first_claim), INFO, "Execution started."))
    return lines


def _end_line(execution: Execution) -> LogLine | None:
    if execution.finished_at is None:
        return None
    took = execution.duration_ms
    after = f" in {took} ms" if took is not None else ""
    if execution.status == ExecutionStatus.COMPLETED:
        return LogLine(execution.finished_at, INFO, f"Execution completed{after}.", duration_ms=took)
    if execution.status == ExecutionStatus.CANCELED:
        when = f" after {took} ms" if took is not None else " before it started"
        return LogLine(execution.finished_at, WARNING, f"Execution canceled{when}.", duration_ms=took)
    error = execution.error if isinstance(execution.error, dict) else {}
    code = error.get("code")
    where = f" (node {error['node_id']})" if error.get("node_id") else ""
    message = f"Execution failed{after}{where}: {_described(error)}"
    return LogLine(execution.finished_at, ERROR, message, duration_ms=took, error_code=code)


def node_lines(run: NodeRun) -> list[LogLine]:
    """A node run's start, its earlier attempts that failed, and its end."""
    if run.reused_from_id is not None:
        at = run.finished_at or run.started_at
        message = f"Node {run.node_id} ({run.type}) reused: its output is the retried execution's, not run again."
        return [LogLine(at, INFO, message, node_id=run.node_id)] if at else []
    lines = []
    if run.started_at:
        message = f"Node {run.node_id} ({run.type}) started, attempt 1."
        lines.append(LogLine(run.started_at, INFO, message, node_id=run.node_id, attempt=1))
        lines += _earlier_attempts(run, run.started_at)
    end = _node_end(run) or _node_waits(run)
    if end is not None:
        lines.append(end)
    return lines


def _node_waits(run: NodeRun) -> LogLine | None:
    """A suspended node: what it waits on (a retry's backoff is told by _earlier_attempts)."""
    waiting_on = run.waiting_on if isinstance(run.waiting_on, dict) else {}
    if run.status != NodeRunStatus.WAITING or waiting_on.get("retry") or run.started_at is None:
        return None
    kind = waiting_on.get("kind")
    what = {
        "timer": f"until {waiting_on.get('until')}",
        "child": f"for its child execution {waiting_on.get('execution_id')}",
        "decision": "for a decision",
    }.get(str(kind), f"on {kind}")
    return LogLine(run.started_at, INFO, f"Node {run.node_id} is waiting {what}.", node_id=run.node_id)


def _earlier_attempts(run: NodeRun, at: datetime.datetime) -> list[LogLine]:
    """The attempts before the one the run ended with (or, for a run waiting out its
    backoff, up to its last one): each failed, or lost its worker, and was tried again."""
    by_attempt: dict[int, list[dict[str, Any]]] = {}
    for entry in run.attempt_log if isinstance(run.attempt_log, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("n"), int):
            by_attempt.setdefault(entry["n"], []).append(entry)
    waits_retry = run.status == NodeRunStatus.WAITING and (run.waiting_on or {}).get("retry")
    waiting = run.status == NodeRunStatus.PENDING or bool(waits_retry)
    last = run.runs if waiting else run.runs - 1
    due = run.wake_at if waits_retry else run.ready_at
    lines = []
    for n in range(1, last + 1):
        entries = by_attempt.get(n, [])
        codes = [e["error_code"] for e in entries if e.get("error_code")]
        next_one = "tried again"
        if waiting and n == last and due:
            next_one = f"attempt {n + 1} is due at {due.isoformat()}"
        if not codes:
            message = f"Node {run.node_id} attempt {n} ended without a result (its worker was lost); {next_one}."
            lines.append(LogLine(at, WARNING, message, node_id=run.node_id, attempt=n))
            continue
        took = round(sum(float(e.get("latency_ms") or 0) for e in entries))
        message = f"Node {run.node_id} attempt {n} failed after {took} ms ({codes[-1]}); {next_one}."
        lines.append(
            LogLine(at, WARNING, message, node_id=run.node_id, attempt=n, duration_ms=took, error_code=codes[-1])
        )
    return lines


def _node_end(run: NodeRun) -> LogLine | None:
    if run.finished_at is None:
        return None
    node, at, took, attempt = run.node_id, run.finished_at, run.duration_ms, run.runs or None
    after = f" in {took} ms" if took is not None else ""
    which = f", attempt {attempt}" if attempt else ""
    if run.status == NodeRunStatus.COMPLETED:
        level = WARNING if (attempt or 0) > 1 else INFO  # it got there, but not at once
        message = f"Node {node} completed{after}{which}."
        return LogLine(at, level, message, node_id=node, attempt=attempt, duration_ms=took)
    if run.status == NodeRunStatus.FAILED:
        error = run.error if isinstance(run.error, dict) else {}
        message = f"Node {node} failed{after}{which}: {_described(error)}"
        return LogLine(
            at, ERROR, message, node_id=node, attempt=attempt, duration_ms=took, error_code=error.get("code")
        )
    if run.status == NodeRunStatus.SKIPPED:
        return LogLine(at, INFO, f"Node {node} skipped: no taken edge led to it.", node_id=node)
    if run.status == NodeRunStatus.CANCELED:
        return LogLine(at, WARNING, f"Node {node} canceled before it started.", node_id=node)
    return None


def _described(error: dict[str, Any]) -> str:
    code, text = error.get("code") or "error", str(error.get("message") or "").strip()
    return f"{code}: {text}" if text else f"{code}."


def matching(
    lines: Iterable[LogLine], *, levels: Iterable[str] = (), node_id: str = "", search: str = ""
) -> list[LogLine]:
    """The lines at one of `levels` (all when empty), of node `node_id` (all when empty),
    whose message holds `search` (case-insensitive)."""
    wanted, needle = set(levels), search.casefold()
    return [
        line
        for line in lines
        if (not wanted or line.level in wanted)
        and (not node_id or line.node_id == node_id)
        and (not needle or needle in line.message.casefold())
    ]
