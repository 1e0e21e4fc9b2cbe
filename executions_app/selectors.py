"""Reads on executions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from redis.exceptions import RedisError

from core.api import NotFound
from executions_app import events, status_cache
from executions_app.log_lines import LogLine, log_lines, matching
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution, ExecutionLog, NodeRun
from executions_app.stream_slots import StreamSlot, TooManyStreams

# A wait blocks on the execution's end in slices shorter than the Redis client's 1 s socket
# timeout (settings: SOCKET_TIMEOUT).
WAIT_BLOCK_MS = 800


def execution_list(*, user: Any) -> QuerySet[Execution]:
    return (
        Execution.objects.filter(owner=user)
        .select_related("version")
        .prefetch_related(Prefetch("node_runs", queryset=NodeRun.objects.order_by("id")))
    )


def execution_get(*, user: Any, execution_id: Any) -> Execution:
    execution = execution_list(user=user).filter(id=execution_id).first()
    if execution is None:
        raise NotFound("Execution not found.")
    return execution


def execution_logs(
    *, execution: Execution, levels: Iterable[str] = (), node_id: str = "", search: str = ""
) -> list[LogLine]:
    """The execution's log, oldest first: its start, each node's start, failed attempts and
    end, and its end, read from the rows (log_lines.py), with the stored lines among them;
    narrowed to `levels`, one node, and lines whose message holds `search`. An execution
    has a few lines per node, so the whole log is built and then filtered."""
    runs = execution.node_runs.all()  # prefetched by execution_get, in id order
    stored = ExecutionLog.objects.filter(execution_id=execution.id).order_by("id")
    lines = log_lines(execution, runs, stored)
    return matching(lines, levels=levels, node_id=node_id, search=search)


def execution_status(execution_id: Any) -> str | None:
    """The committed status: from the cache, written after every commit, else the database."""
    cached = status_cache.read(execution_id)
    if cached:
        return cached["status"]
    return Execution.objects.filter(id=execution_id).values_list("status", flat=True).first()


def execution_wait_held(*, user_id: Any, execution_id: Any, timeout_s: float) -> None:
    """The API's `wait`: it holds a web thread as an event stream does, so it takes one of
    the user's stream slots for its length. With none free it does not wait (the answer
    is the 202 with the current state): one client cannot take every web thread."""
    try:
        slot = StreamSlot.acquire(user_id, lease_s=timeout_s + 5)
    except TooManyStreams:
        return
    try:
        execution_wait(execution_id, timeout_s)
    finally:
        slot.release()


def execution_wait(execution_id: Any, timeout_s: float, poll_s: float = 0.02) -> bool:
    """Waits until the execution has finished or the timeout runs out; True if finished.
    Blocks on the execution's end (events.read_end), which its final event wakes at once
    (polling would answer up to a poll interval late and cost a read per interval), and
    checks the committed status between blocks; polls every poll_s while Redis fails."""
    deadline = time.monotonic() + timeout_s
    while True:
        if execution_status(execution_id) in FINISHED_EXECUTION_STATUSES:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            # Blocks stay below the Redis client's socket timeout; 0 would block forever.
            if events.read_end(execution_id, max(1, min(WAIT_BLOCK_MS, int(left * 1000)))):
                return True
        except RedisError:
            time.sleep(min(poll_s, left))
