"""The claim of a node run: a conditional update under a lease, so one worker runs it.

A ready node is claimed in one statement when its task carries the lease (the fused
path); otherwise the run is read first, and a running node whose holder is gone (lease
expired, heartbeat dead) is taken over. A node whose workers keep dying gets no claim but
WorkerLost, which node_run records as its failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core import heartbeat
from executions_app.engine.publish import run_timeout_s
from executions_app.engine.storage import ClaimedRun, storage
from executions_app.models import ACTIVE_EXECUTION_STATUSES, NodeRunStatus
from workflows_app.graph import Graph, NodeSpec
from workflows_app.selectors import graph_for_version

LIMITS = settings.SWITCHBOARD
# A delayed retry message may arrive a little before its row's ready_at (clock skew
# between the publishing and the consuming process).
READY_TOLERANCE = timedelta(seconds=2)


@dataclass(slots=True)
class Claim:
    """A node run this worker holds: as read, the version's graph, and the attempt number."""

    run: ClaimedRun
    graph: Graph
    attempt: int  # the claim count: what fences this claim's writes

    @property
    def spec(self) -> NodeSpec:
        return self.graph.nodes[self.run.node_id]

    @property
    def runs(self) -> int:
        """Which run of the node's work this is (1 the first): claims that resumed a
        waiting node are not counted, so a wake never uses up a retry."""
        return self.attempt - self.run.resumes


@dataclass(slots=True)
class WorkerLost:
    """A running node whose holder is gone and whose attempts ran out: no claim."""

    run: ClaimedRun
    graph: Graph


def claim_node(node_run_id: int, lease_s: float | None) -> Claim | WorkerLost | None:
    """The claim: the fused one for a ready node when the task carries its lease, else
    the general path. None when there is nothing to run; WorkerLost, no claim, when the
    node's workers kept dying and its attempts ran out."""
    if lease_s:
        now = timezone.now()
        run = storage().claim_ready(
            node_run_id,
            now=now,
            ready_by=now + READY_TOLERANCE,
            lease_until=now + timedelta(seconds=lease_s),
            holder=heartbeat.holder_identity(),
        )
        if run is not None:
            return Claim(run, graph_for_version(run.version_id), run.attempts)
    return read_and_claim(node_run_id)


def read_and_claim(node_run_id: int) -> Claim | WorkerLost | None:
    """The general path: read the node run, then claim it if it is ready, or take it over
    from a holder that is gone. None when there is nothing to run, WorkerLost when the
    node has no attempts left."""
    run = storage().read(node_run_id, timezone.now())
    if run is None or run.execution_status not in ACTIVE_EXECUTION_STATUSES:
        return None  # pruned, or the execution ended: nothing more starts
    graph = graph_for_version(run.version_id)
    spec = graph.nodes[run.node_id]
    dead_holder = None
    if run.status == NodeRunStatus.RUNNING:
        dead_holder = lease_lost_by(run)
        if dead_holder is None:
            return None  # a live worker holds the lease
        if run.attempts - run.resumes >= max(spec.retry.max_attempts, LIMITS.worker_lost_max_attempts):
            return WorkerLost(run, graph)
    timeout_s = run_timeout_s(spec)
    now = timezone.now()
    won = storage().claim(
        node_run_id,
        run.attempts,
        now=now,
        ready_by=now + READY_TOLERANCE,
        lease_until=now + timedelta(seconds=timeout_s + LIMITS.lease_grace_s),
        holder=heartbeat.holder_identity(),
        dead_holder=dead_holder,
    )
    return Claim(run, graph, run.attempts + 1) if won else None


def lease_lost_by(run: ClaimedRun) -> str | None:
    """The holder of a running node's lease if that holder is gone, else None."""
    holder = run.claimed_by or ""
    if run.lease_expired:
        return holder or "expired"
    return holder if holder and holder in heartbeat.dead_holders({holder}) else None
