"""The approvals inbox: the APPROVAL nodes waiting for the caller's decision, newest first.
Approvals are decided by the workflow's owner, so the caller's are those of the
executions the caller owns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from executions_app.approvals.decisions import APPROVAL, approval_config
from executions_app.models import ACTIVE_EXECUTION_STATUSES, NodeRun, NodeRunStatus


def approvals_waiting(*, user: Any) -> QuerySet[NodeRun]:
    return (
        NodeRun.objects.filter(
            type=APPROVAL,
            status=NodeRunStatus.WAITING,
            waiting_on__kind="decision",
            execution__owner=user,
            execution__status__in=ACTIVE_EXECUTION_STATUSES,
        )
        .select_related("execution__workflow")
        .order_by("-started_at", "-id")
    )


@dataclass(frozen=True)
class InboxItem:
    execution_id: Any
    execution_status: str
    workflow_id: Any
    workflow_name: str
    node_id: str
    message: str
    data: Any
    data_schema: dict[str, Any] | None
    requested_at: str | None
    expires_at: str | None


def inbox_item(run: NodeRun) -> InboxItem:
    state = run.state or {}
    execution = run.execution
    return InboxItem(
        execution_id=execution.id,
        execution_status=execution.status,
        workflow_id=execution.workflow_id,
        workflow_name=execution.workflow.name,
        node_id=run.node_id,
        message=state.get("message", ""),
        data=state.get("data"),
        data_schema=approval_config(execution, run.node_id).data_schema,
        requested_at=state.get("requested_at"),
        expires_at=state.get("expires_at"),
    )
