"""The child runner (workflows_app/nodes/ports.py, ChildRunner): how SUBWORKFLOW and MAP
start, read and cancel the child executions of the execution they run in.

A child is an execution like any other (its own node runs, spread over every worker),
linked to its parent by (parent, parent_node_id, parent_index), which is unique: a parent
node that runs again after a crash finds the children it started instead of starting
them twice. A child's end wakes the parent node (engine/execution_end.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions_app.engine.creation import ChildOf, create_child
from executions_app.engine.execution_end import end_execution
from executions_app.models import Execution, ExecutionStatus

# How far back a retry looks for completed items: the execution it retries, the one that
# one retried, and so on (each retry of a MAP reuses what every earlier one completed).
RETRY_CHAIN_MAX = 20


class EngineChildren:
    """The one ChildRunner of a process; stateless, every call names its parent."""

    def start(
        self,
        *,
        owner_id: Any,
        parent_execution_id: str,
        parent_node_id: str,
        index: int,
        depth: int,
        deadline_at: datetime | None,
        workflow_id: str,
        version: int | str,
        inputs: dict[str, Any],
    ) -> str:
        parent = ChildOf(parent_execution_id, parent_node_id, index, depth, deadline_at)
        child_id = create_child(
            owner_id=owner_id, parent=parent, workflow_id=workflow_id, version=version, inputs=inputs
        )
        return str(child_id)

    def results(self, execution_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not execution_ids:
            return {}
        rows = Execution.objects.filter(id__in=execution_ids).values_list("id", "status", "outputs", "error")
        return {
            str(id_): {"status": status, "outputs": outputs, "error": error} for id_, status, outputs, error in rows
        }

    def cancel(self, execution_ids: list[str], reason: str) -> None:
        now = timezone.now()
        error = {"code": "canceled_by_parent", "message": reason}
        for execution_id in execution_ids:
            with transaction.atomic():
                # Locked first, as a cancel from the API locks it.
                Execution.objects.select_for_update(no_key=True).filter(id=execution_id).values_list("id").first()
                end_execution(execution_id, ExecutionStatus.CANCELED, now, error=error)

    def reusable(self, execution_id: str, node_id: str) -> dict[int, str]:
        found: dict[int, str] = {}
        retried = Execution.objects.filter(id=execution_id).values_list("retried_from_id", flat=True).first()
        for _ in range(RETRY_CHAIN_MAX):
            if retried is None:
                break
            completed = Execution.objects.filter(
                parent_id=retried, parent_node_id=node_id, status=ExecutionStatus.COMPLETED
            ).values_list("parent_index", "id")
            for index, child_id in completed:
                found.setdefault(index, str(child_id))
            retried = Execution.objects.filter(id=retried).values_list("retried_from_id", flat=True).first()
        return found
