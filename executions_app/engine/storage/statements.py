"""What both storage implementations share: table names, the fenced-completion SQL,
the adapters of values to parameters, and the claimed run read back from a row.

Values are adapted through Django's own field and backend adapters; every value is a
bound parameter, table names come from model metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from django.db import connection, models

from executions_app.models import Execution, NodeRun

NODE_RUN = NodeRun._meta.db_table
EXECUTION = Execution._meta.db_table
# Statements on one node run find it by primary key. Written plainly, `status = ...` lets
# the planner choose a status index instead whenever a table has no statistics yet (a new
# database): it then filters every pending row. The concatenation keeps it on the key.
UNINDEXED_STATUS = "(status || '')"
_DEADLINE_FIELD = Execution._meta.get_field("deadline_at")
_JSON_FIELDS = {
    name: cast("models.Field[Any, Any]", NodeRun._meta.get_field(name))
    for name in ("output", "error", "attempt_log", "state", "waiting_on")
}


def adapt_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def adapt_uuid(value: Any) -> Any:
    return Execution._meta.pk.get_db_prep_value(value, connection)


def adapt_json(field: str, value: Any) -> Any:
    return _JSON_FIELDS[field].get_db_prep_save(value, connection)


def loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass(slots=True)
class ClaimedRun:
    """A node run with what running it needs from its execution, as the claim (or the
    read before it) found it. `attempts` is the count when read; after a claim the
    attempt number is `attempts` (fused claim) or `attempts + 1` (general path)."""

    execution_id: Any
    node_id: str
    status: str
    attempts: int
    attempt_log: list[Any]
    claimed_by: str
    lease_expired: bool
    execution_status: str
    owner_id: Any
    inputs: dict[str, Any]
    version_id: Any
    workflow_id: Any
    deadline_at: datetime | None
    # Suspension: claims that resumed the node rather than ran it (NodeRun.resumes), what
    # it saved when it suspended, when its first run started, and its execution's depth
    # under parents.
    resumes: int = 0
    state: Any = None
    started_at: datetime | None = None
    depth: int = 0


# The columns a ClaimedRun is read from, in its fields' order (nr: the node run, e: its execution).
def claimed_run_columns(node_alias: str, lease_expired: str) -> str:
    return (
        f"{node_alias}.execution_id, {node_alias}.node_id, {node_alias}.status, {node_alias}.attempts, "
        f"{node_alias}.attempt_log, {node_alias}.claimed_by, {lease_expired}, e.status, e.owner_id, e.inputs, "
        f"e.version_id, e.workflow_id, e.deadline_at, {node_alias}.resumes, {node_alias}.state, "
        f"{node_alias}.started_at, e.depth"
    )


def joined_execution(node_alias: str) -> str:
    """The execution of node run `node_alias`, for FROM clauses. The workflow's name and
    the version's number are read only by a node that mentions them (workflow_identity):
    two more relations in the claim cost about 0.2 ms per node."""
    return f"JOIN {EXECUTION} e ON e.id = {node_alias}.execution_id"


def claimed_run(found: tuple[Any, ...]) -> ClaimedRun:
    (execution_id, node_id, status, attempts, attempt_log, claimed_by, lease_expired) = found[:7]
    (execution_status, owner_id, inputs, version_id, workflow_id, deadline_at) = found[7:13]
    (resumes, state, started_at, depth) = found[13:]
    to_uuid = Execution._meta.pk.to_python
    return ClaimedRun(
        execution_id=to_uuid(execution_id),
        node_id=node_id,
        status=status,
        attempts=attempts,
        attempt_log=loads(attempt_log),
        claimed_by=claimed_by,
        lease_expired=bool(lease_expired),
        execution_status=execution_status,
        owner_id=owner_id,
        inputs=loads(inputs),
        version_id=to_uuid(version_id),
        workflow_id=to_uuid(workflow_id),
        deadline_at=_aware(deadline_at),
        resumes=resumes,
        state=loads(state),
        started_at=_aware(started_at),
        depth=depth,
    )


def _aware(value: Any) -> datetime | None:
    moment: datetime | None = _DEADLINE_FIELD.to_python(value)
    if moment is not None and moment.tzinfo is None:  # SQLite keeps UTC without an offset
        moment = moment.replace(tzinfo=UTC)
    return moment


# The fenced completion of a node run: written only by the attempt that holds the claim.
# Counts a node out of an active execution, locking its row. An ended one is not counted
# down: a late, superseded attempt would take a completed execution's 0 below zero (its
# write is fenced out and rolled back anyway).
COUNT_DOWN = (
    f"UPDATE {EXECUTION} SET remaining_nodes = remaining_nodes - "
    "(CASE WHEN status IN ('queued', 'running') THEN 1 ELSE 0 END) WHERE id = %s RETURNING status, remaining_nodes"
)

RECORD_OUTCOME = (
    f"UPDATE {NODE_RUN} SET status = %s, output = %s, error = %s, attempt_log = %s, finished_at = %s, "
    f"lease_until = NULL WHERE id = %s AND {UNINDEXED_STATUS} = 'running' AND attempts = %s"
)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a completion writes on the node run."""

    status: str
    output: Any
    error: Any
    attempt_log: list[Any]


def outcome_params(node_run_id: int, attempt: int, recorded: Recorded, now: datetime) -> list[Any]:
    return [
        recorded.status,
        adapt_json("output", recorded.output),
        adapt_json("error", recorded.error),
        adapt_json("attempt_log", recorded.attempt_log),
        adapt_datetime(now),
        node_run_id,
        attempt,
    ]
