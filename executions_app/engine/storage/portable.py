"""The engine's storage in SQL that PostgreSQL and SQLite both run: each step is its own
statement, and the caller's transaction holds them together. PostgresStorage
(postgres.py) overrides the steps it can fuse into one statement.

Every node task runs these; building the same ORM queries each time cost more than the
database round trips themselves (bench/RESULTS.md), so they are written once here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from executions_app.engine.storage.statements import (
    COUNT_DOWN,
    EXECUTION,
    NODE_RUN,
    RECORD_OUTCOME,
    UNINDEXED_STATUS,
    ClaimedRun,
    Recorded,
    adapt_datetime,
    adapt_uuid,
    claimed_run,
    claimed_run_columns,
    joined_execution,
    loads,
    outcome_params,
)
from executions_app.models import Execution, ExecutionStatus, NodeRun, NodeRunStatus
from workflows_app.models import Workflow, WorkflowVersion

if TYPE_CHECKING:
    from workflows_app.graph import Graph


# What end_completed returns of the execution: for the monitoring counters, and the parent
# node a child's end wakes.
FINISHED_ROW = ("owner_id", "workflow_id", "started_at", "parent_id", "parent_node_id")


def insert_node_runs(execution: Execution, graph: Graph, now: datetime) -> list[NodeRun]:
    """One pending node run per node with its join counter; roots are ready at once."""
    runs = NodeRun.objects.bulk_create(
        NodeRun(
            execution=execution,
            node_id=node_id,
            type=spec.type,
            pending_parents=len(graph.parents(node_id)),
            ready_at=None if graph.parents(node_id) else now,
        )
        for node_id, spec in graph.nodes.items()
    )
    if any(run.pk is None for run in runs):  # backends that return no ids from bulk inserts
        runs = list(NodeRun.objects.filter(execution=execution))
    return runs


class PortableStorage:
    """The engine's reads and writes of executions and node runs (the database is the
    truth about every run). One instance per process: storage() in __init__.py."""

    # Whether record_and_release() exists here: a completed node with only unbranched
    # edges out is then completed in one statement, without a transaction around it.
    releases_straight = False

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        with connection.cursor() as cursor:
            yield cursor

    # --- a new execution --------------------------------------------------------------

    def create_execution(self, execution: Execution, graph: Graph, now: datetime) -> dict[str, int]:
        """Inserts the (unsaved) execution and its node runs; returns the runs' ids by
        node id. Raises IntegrityError (an idempotency key taken meanwhile)."""
        with transaction.atomic():
            execution.save(force_insert=True)
            return {run.node_id: run.pk for run in insert_node_runs(execution, graph, now)}

    def start_execution(self, execution_id: Any, now: datetime) -> bool:
        """Marks a queued execution running; False when another root node got there first."""
        sql = f"UPDATE {EXECUTION} SET status = 'running', started_at = %s WHERE id = %s AND status = 'queued'"
        with self.cursor() as cursor:
            cursor.execute(sql, [adapt_datetime(now), adapt_uuid(execution_id)])
            return bool(cursor.rowcount == 1)

    # --- the claim ------------------------------------------------------------------------

    def claim_ready(
        self, node_run_id: int, *, now: datetime, ready_by: datetime, lease_until: datetime, holder: str
    ) -> ClaimedRun | None:
        """The claim of a ready pending node of an active execution and its read, in one
        statement where the database allows; None otherwise, and whenever the node is
        anything else: the caller then reads first (read) and decides (claim)."""
        return None

    def read(self, node_run_id: int, now: datetime) -> ClaimedRun | None:
        """The node run with what running it needs from its execution."""
        columns = claimed_run_columns("nr", "(nr.lease_until IS NOT NULL AND nr.lease_until < %s)")
        sql = f"SELECT {columns} FROM {NODE_RUN} nr {joined_execution('nr')} WHERE nr.id = %s"
        with self.cursor() as cursor:
            cursor.execute(sql, [adapt_datetime(now), node_run_id])
            found = cursor.fetchone()
        return None if found is None else claimed_run(found)

    def claim(
        self,
        node_run_id: int,
        seen_attempts: int,
        *,
        now: datetime,
        ready_by: datetime,
        lease_until: datetime,
        holder: str,
        dead_holder: str | None,
    ) -> bool:
        """The claim: one conditional update, checked by row count. Wins for a ready
        pending node, or a running one whose holder is gone (lease expired, or
        `dead_holder` stopped beating), when nobody claimed it since it was read."""
        sql = (
            f"UPDATE {NODE_RUN} SET status = 'running', attempts = attempts + 1, lease_until = %s, "
            "claimed_by = %s, started_at = COALESCE(started_at, %s) "
            f"WHERE id = %s AND attempts = %s AND (({UNINDEXED_STATUS} = 'pending' AND ready_at <= %s) "
            f"OR ({UNINDEXED_STATUS} = 'running' AND (lease_until < %s OR claimed_by = %s)))"
        )
        params = [adapt_datetime(lease_until), holder, adapt_datetime(now), node_run_id, seen_attempts]
        params += [adapt_datetime(ready_by), adapt_datetime(now)]
        params.append(dead_holder or "-")  # "-" is never a holder: holders are "host|pid|pid"
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return bool(cursor.rowcount == 1)

    # --- what a node reads ------------------------------------------------------------

    def upstream_outputs(self, execution_id: Any, node_ids: tuple[str, ...]) -> dict[str, Any]:
        """Outputs of upstream nodes; a skipped (or not finished) node's output is None."""
        if not node_ids:
            return {}
        marks = ", ".join(["%s"] * len(node_ids))
        sql = f"SELECT node_id, status, output FROM {NODE_RUN} WHERE execution_id = %s AND node_id IN ({marks})"
        with self.cursor() as cursor:
            cursor.execute(sql, [adapt_uuid(execution_id), *node_ids])
            rows = cursor.fetchall()
        done = (NodeRunStatus.COMPLETED, NodeRunStatus.FAILED)
        return {node_id: loads(output) if status in done else None for node_id, status, output in rows}

    def workflow_identity(self, workflow_id: Any, version_id: Any) -> tuple[str | None, int | None]:
        """The workflow's current name and the version's number."""
        sql = (
            f"SELECT (SELECT name FROM {Workflow._meta.db_table} WHERE id = %s), "
            f"(SELECT number FROM {WorkflowVersion._meta.db_table} WHERE id = %s)"
        )
        with self.cursor() as cursor:
            cursor.execute(sql, [adapt_uuid(workflow_id), adapt_uuid(version_id)])
            name, number = cursor.fetchone()
        return name, number

    # --- the completion ---------------------------------------------------------------

    def count_down(self, execution_id: Any) -> tuple[str, int]:
        """Counts a node out and locks the execution's row for the rest of the transaction
        (completions of one execution are serialized): UPDATE … RETURNING."""
        with self.cursor() as cursor:
            cursor.execute(COUNT_DOWN, [adapt_uuid(execution_id)])
            status, remaining = cursor.fetchone()
        return status, remaining

    def record(self, node_run_id: int, attempt: int, recorded: Recorded, now: datetime) -> bool:
        """The fenced write: only the attempt that holds the claim writes its result."""
        with self.cursor() as cursor:
            cursor.execute(RECORD_OUTCOME, outcome_params(node_run_id, attempt, recorded, now))
            return bool(cursor.rowcount == 1)

    def count_down_and_record(
        self, execution_id: Any, node_run_id: int, attempt: int, recorded: Recorded, now: datetime
    ) -> tuple[str, int, bool]:
        """count_down then record, in the caller's transaction: the execution's status and
        remaining count, and whether the result was written."""
        status, remaining = self.count_down(execution_id)
        return status, remaining, self.record(node_run_id, attempt, recorded, now)

    def record_and_release(
        self,
        execution_id: Any,
        node_run_id: int,
        attempt: int,
        children: tuple[str, ...],
        recorded: Recorded,
        now: datetime,
    ) -> tuple[str, int, bool, list[tuple[int, str]]]:
        """Only where releases_straight is true (postgres.py)."""
        raise NotImplementedError("record_and_release needs releases_straight")

    def resolve_edges(
        self, execution_id: Any, targets: list[str], count: int, taken: int, now: datetime
    ) -> list[tuple[int, str, bool]]:
        """Resolves `count` parent edges of each target (`taken` of them taken) and returns
        the children this update decided: (id, node id, ready). The update that resolves a
        child's last edge stamps ready_at = now when any edge was taken; RETURNING gives the
        counters as this update left them, so a child is decided by exactly one update."""
        marks = ", ".join(["%s"] * len(targets))
        becomes_ready = "pending_parents = %s" if taken else "pending_parents = %s AND taken_parents > 0"
        sql = (
            f"UPDATE {NODE_RUN} SET pending_parents = pending_parents - %s, taken_parents = taken_parents + %s, "
            f"ready_at = CASE WHEN {becomes_ready} THEN %s ELSE ready_at END "
            f"WHERE execution_id = %s AND node_id IN ({marks}) AND pending_parents >= %s "
            # Ready means a taken edge, the same test as the CASE above; taken_parents rather
            # than ready_at, whose type SQLite's driver misreads in a RETURNING expression.
            "RETURNING id, node_id, pending_parents, taken_parents, status"
        )
        params = [count, taken, count, adapt_datetime(now), adapt_uuid(execution_id), *targets, count]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            (run_id, node_id, taken_parents > 0)
            for run_id, node_id, pending, taken_parents, status in rows
            if pending == 0 and status == "pending"
        ]

    def end_completed(
        self, execution_id: Any, output_node_ids: tuple[str, ...], now: datetime
    ) -> dict[str, Any] | None:
        """Gathers the OUTPUT nodes' results into the execution's outputs and marks it
        completed. Returns FINISHED_ROW's values."""
        outputs = dict(
            NodeRun.objects.filter(
                execution_id=execution_id, node_id__in=output_node_ids, status=NodeRunStatus.COMPLETED
            ).values_list("node_id", "output")
        )
        Execution.objects.filter(id=execution_id).update(
            status=ExecutionStatus.COMPLETED, outputs=outputs, remaining_nodes=0, finished_at=now
        )
        row: dict[str, Any] | None = Execution.objects.filter(id=execution_id).values(*FINISHED_ROW).first()
        return row
