"""A decision on a waiting APPROVAL node: checked (the decision, the comment, the data
against the node's data_schema), written into the node's saved state and the node woken,
once. The node turns it into its output when it runs again (workflows_app/nodes/approval.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.api import Conflict, NotFound, ValidationFailed
from executions_app.engine.wakes import wake_node
from executions_app.models import Execution, ExecutionLog, NodeRun, NodeRunStatus
from workflows_app.nodes.approval import ApprovalConfig, data_problems
from workflows_app.selectors import graph_for_version

APPROVAL = "APPROVAL"
MAX_COMMENT_CHARS = 2000
_DONE = {"approve": "Approved", "reject": "Rejected"}


@dataclass(frozen=True)
class WaitingApproval:
    """A node run of an APPROVAL found for a decision, with its execution and config."""

    run: NodeRun
    execution: Execution
    config: ApprovalConfig


def approval_config(execution: Execution, node_id: str) -> ApprovalConfig:
    config: ApprovalConfig = graph_for_version(execution.version_id).nodes[node_id].node.config
    return config


def approval_node_get(*, user: Any, execution_id: Any, node_id: str) -> WaitingApproval:
    """The caller's APPROVAL node run, found whatever its state (404 for another user's
    execution, an unknown node, a node of another type)."""
    execution = Execution.objects.filter(id=execution_id, owner=user).first() if user.is_authenticated else None
    if execution is None:
        raise NotFound("Execution not found.")
    run = NodeRun.objects.filter(execution=execution, node_id=node_id).first()
    if run is None:
        raise NotFound("This execution has no such node.")
    if run.type != APPROVAL:
        raise Conflict(f"Node {node_id!r} is a {run.type}, not an APPROVAL.", code="not_waiting")
    return WaitingApproval(run, execution, approval_config(execution, node_id))


def ensure_waiting(found: WaitingApproval, now: dt.datetime) -> None:
    """409 unless the node waits for a decision that can still be made."""
    state = found.run.state or {}
    if state.get("decision"):
        raise Conflict("This approval was already decided.", code="already_decided")
    waiting_on = found.run.waiting_on or {}
    if found.run.status != NodeRunStatus.WAITING or waiting_on.get("kind") != "decision":
        raise Conflict(f"Node {found.run.node_id!r} is not waiting for a decision.", code="not_waiting")
    expires_at = state.get("expires_at")
    if expires_at and dt.datetime.fromisoformat(expires_at) <= now:
        message = f"The time for a decision ran out at {expires_at}; the default decision applies."
        raise Conflict(message, code="expired")


def checked_decision(
    found: WaitingApproval, *, decision: str, comment: str | None, data: Any, has_data: bool
) -> dict[str, Any]:
    """The decision's parts, checked; 400 with details for what is wrong."""
    problems: dict[str, list[str]] = {}
    if decision not in ("approve", "reject"):
        problems["decision"] = ['decision is "approve" or "reject".']
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS):
        problems["comment"] = [f"comment is a string of at most {MAX_COMMENT_CHARS} characters."]
    if has_data and data is not None and not isinstance(data, dict):
        problems["data"] = ["data is an object."]
    if problems:
        raise ValidationFailed(details=problems)
    proposed = (found.run.state or {}).get("data")
    chosen = data if has_data else proposed
    # An approval must carry data that fits; a rejection is checked only for data it sends.
    if (decision == "approve" or has_data) and chosen is not None:
        found_problems = data_problems(found.config.data_schema, chosen)
        if found_problems:
            raise ValidationFailed("The data does not match the node's data_schema.", details={"data": found_problems})
    elif decision == "approve" and found.config.data_schema is not None:
        raise ValidationFailed("The node's data_schema asks for data.", details={"data": ["data is required."]})
    return {"decision": decision, "comment": comment or None, "data": chosen}


def decide(found: WaitingApproval, parts: dict[str, Any], *, by: str) -> dict[str, Any]:
    """Writes the decision into the node's state and wakes it, once: a second decision,
    or one racing the timeout, is a 409. Logged in the execution's log."""
    now = timezone.now()
    ensure_waiting(found, now)
    decision = {**parts, "by": by, "at": now.isoformat()}
    state = {**(found.run.state or {}), "decision": decision}
    with transaction.atomic():
        if not wake_node(found.run.id, generation=found.run.attempts, state=state, reason="decision"):
            raise Conflict("This approval was already decided.", code="already_decided")
        comment = f": {parts['comment']}" if parts.get("comment") else "."
        ExecutionLog.objects.create(
            execution_id=found.execution.id,
            node_id=found.run.node_id,
            level=ExecutionLog.Level.INFO,
            message=f"{_DONE[parts['decision']]} by {by}{comment}",
        )
    return decision
