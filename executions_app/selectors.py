"""Reads on executions."""

from __future__ import annotations

import time
from typing import Any

from django.db.models import Prefetch, QuerySet

from config.api import NotFound
from executions_app import status_cache
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution, ExecutionLog, NodeRun


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


def execution_logs(*, execution: Execution) -> QuerySet[ExecutionLog]:
    return ExecutionLog.objects.filter(execution=execution).order_by("id")


def execution_status(execution_id: Any) -> str | None:
    """The committed status: from the cache, written after every commit, else the database."""
    cached = status_cache.read(execution_id)
    if cached:
        return cached["status"]
    return Execution.objects.filter(id=execution_id).values_list("status", flat=True).first()


def execution_wait(execution_id: Any, timeout_s: float, poll_s: float = 0.02) -> bool:
    """Waits until the execution has finished or the timeout runs out; True if finished."""
    deadline = time.monotonic() + timeout_s
    while True:
        if execution_status(execution_id) in FINISHED_EXECUTION_STATUSES:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))
