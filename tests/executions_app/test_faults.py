"""Faults with real processes, each at a named kill point: a worker stopped by SIGTERM in
a burst, a worker frozen (SIGSTOP) past its lease, a PostgreSQL backend terminated while
a node's completion transaction is open. Every workflow writes with a DATABASE insert, so
"no side effect twice" is a count of records (docs/testing.md, Faults). The SIGKILL cases
are in test_durability.py, the Redis restart in test_redis_restart.py."""

from __future__ import annotations

import os
import re
import signal
from collections import Counter
from dataclasses import replace
from itertools import pairwise

import pytest
from django.utils import timezone

from executions_app.models import Execution, NodeRun
from records_app.models import Record
from tests.support.definitions import edge, input_node, node
from tests.support.faults import (
    EXECUTIONS_TABLE,
    RECORDS_TABLE,
    backend_gone,
    backend_running,
    is_postgresql,
    own_connection,
    resume,
    row_locked_by_another,
    suspend,
    sweep_until,
    unfinished,
)
from tests.support.workers import wait_for, worker_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker_process]

# A lease of timeout_s + LEASE_GRACE_S: seconds, so a lost one is found within a test.
LEASE_GRACE_S = 1
SHORT_LEASE = {"SWITCHBOARD_LEASE_GRACE_S": str(LEASE_GRACE_S)}
# Celery's line per task finished (config/settings_logging.py).
TASK_LINES = {"SWITCHBOARD_LOG_TASKS": "1"}
WAIT_TASK_ENDED = re.compile(r"node WAIT\[[0-9a-f-]+\] succeeded in ")


def insert_chain(make_workflow, collection: str, *, before: dict | None = None, timeout_s: float = 3) -> str:
    """start -> [before] -> log (DATABASE insert of the execution's `n`) -> result."""
    log = node(
        "log",
        "DATABASE",
        {"operation": "insert", "collection": collection, "document": {"n": "{{ inputs.n }}"}},
        timeout_s=timeout_s,
    )
    result = node("result", "OUTPUT", {"value": "{{ nodes.log.output.inserted_id }}"})
    nodes, chain = [input_node(n={"type": "integer", "required": True})], ["start"]
    if before:
        nodes.append(before)
        chain.append(before["id"])
    nodes += [log, result]
    chain += ["log", "result"]
    return make_workflow(nodes, [edge(a, b) for a, b in pairwise(chain)])


def node_runs(execution_id: str) -> dict[str, NodeRun]:
    return {r.node_id: r for r in NodeRun.objects.filter(execution_id=execution_id)}


@pytest.mark.slow
def test_sigterm_of_the_worker_mid_burst_then_a_new_worker_finishes(make_workflow, run, user, settings) -> None:
    """Kill point: SIGTERM to the worker's main process (what a supervisor sends to stop
    it) once a tenth of a burst's inserts are committed. The worker finishes the nodes it
    holds and exits, handing back what it had not started; a new worker finishes the
    rest. Every execution ends completed and each inserted its record exactly once."""
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, sweep_stale_ready_s=2)
    burst = 200 if is_postgresql() else 20
    workflow_id = insert_chain(make_workflow, "burst")
    records = Record.objects.filter(owner=user, collection="burst")
    # Queued before any worker runs, so that the SIGTERM falls in the middle of the burst.
    ids = [run(workflow_id, {"n": n}, wait=None).json()["id"] for n in range(burst)]
    with worker_process(concurrency=2) as first:
        wait_for(lambda: records.count() >= burst / 10, timeout=60)
        os.kill(first.process.pid, signal.SIGTERM)
        assert first.process.wait(timeout=60) == 0  # a warm shutdown
        inserted_before_exit = records.count()
    assert inserted_before_exit < burst, "the first worker finished the whole burst: no fault"
    with worker_process(concurrency=2):
        sweep_until(lambda: unfinished(ids) == 0, timeout=120)
    executions = Execution.objects.filter(id__in=ids)
    assert Counter(executions.values_list("status", flat=True)) == {"completed": burst}
    assert Counter(int(r.data["n"]) for r in records) == Counter(range(burst))  # one insert per execution
    assert sorted(e.outputs["result"] for e in executions) == sorted(r.id for r in records)
    # No node ran twice: the stopped worker's nodes finished before it exited.
    attempts = Counter(NodeRun.objects.filter(execution_id__in=ids).values_list("attempts", flat=True))
    assert attempts == {1: 3 * burst}
    print(f"SIGTERM: {inserted_before_exit} of {burst} inserts by the first worker, the rest by the second")


def test_sigstop_past_the_lease_then_sigcont_the_late_completion_is_fenced(make_workflow, run, user, settings) -> None:
    """Kill point: SIGSTOP of the worker holding `pause` (a WAIT), kept stopped past the
    node's lease, until a second worker has taken the node over; then SIGCONT while that
    second attempt holds the node (its worker frozen in turn, so the order is certain):
    the first worker completes its stale attempt, and the fence on the attempt number
    refuses it. The second attempt then completes the node, and the execution, once.

    Both workers use the threads pool, as the AI worker does: under prefork, Celery's hard
    time limit (equal to the lease) would kill the stale child when it wakes, and its late
    completion would never be attempted."""
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, lease_grace_s=LEASE_GRACE_S)
    pause = node("pause", "WAIT", {"seconds": 2}, timeout_s=3)
    workflow_id = insert_chain(make_workflow, "fenced", before=pause)

    def pause_run() -> NodeRun:
        return NodeRun.objects.get(execution_id=execution_id, node_id="pause")

    with worker_process(concurrency=1, pool="threads", extra_env={**SHORT_LEASE, **TASK_LINES}) as stale:
        execution_id = run(workflow_id, {"n": 1}, wait=None).json()["id"]
        wait_for(lambda: pause_run().status == "running")
        suspend(stale)
        stale_claim = pause_run()
        assert (stale_claim.status, stale_claim.attempts) == ("running", 1)
        assert stale_claim.claimed_by.split("|")[1] == str(stale.process.pid)
        with worker_process(concurrency=1, pool="threads", extra_env=SHORT_LEASE) as fresh:
            # The stopped worker's heartbeat lapses too; whichever comes first, its claim
            # is found lost and the node re-published.
            sweep_until(lambda: pause_run().attempts == 2)
            suspend(fresh)
            assert stale_claim.lease_until < timezone.now()  # the stale attempt's lease ran out
            resume(stale)
            # The stale attempt wakes with its wait over and tries to complete the node; once
            # its task has ended, the row shows whether the fence let it write.
            wait_for(lambda: WAIT_TASK_ENDED.search(stale.log()), timeout=30)
            taken_over = pause_run()
            assert (taken_over.status, taken_over.attempts, taken_over.attempt_log) == ("running", 2, [])
            assert taken_over.claimed_by.split("|")[1] == str(fresh.process.pid)
            resume(fresh)
            # Not swept meanwhile: a re-publish of the frozen attempt would start a third.
            wait_for(lambda: pause_run().status == "completed", timeout=30)
            sweep_until(lambda: unfinished([execution_id]) == 0)
    execution = Execution.objects.get(id=execution_id)
    assert execution.status == "completed", execution.error
    runs = node_runs(execution_id)
    assert runs["pause"].status == "completed"
    assert runs["pause"].attempts == 2
    # Only the second attempt's line: the first attempt's completion wrote nothing.
    assert [entry["n"] for entry in runs["pause"].attempt_log] == [2]
    assert {n: r.attempts for n, r in runs.items() if n != "pause"} == {"start": 1, "log": 1, "result": 1}
    records = Record.objects.filter(owner=user, collection="fenced")
    assert records.count() == 1
    assert execution.outputs == {"result": records.get().id}


def test_postgres_backend_terminated_inside_the_completion_transaction(make_workflow, run, user) -> None:
    """Kill point: pg_terminate_backend of the worker's connection while the DATABASE
    node's completion transaction is open: the execution row counted down and locked, the
    record's INSERT issued and waiting on a lock the test holds. Nothing of it may remain;
    the sweeper re-runs the node once its lease runs out, and it writes exactly once."""
    if not is_postgresql():
        pytest.skip("terminating a server backend is a PostgreSQL fault; SQLite has no server connection")
    workflow_id = insert_chain(make_workflow, "dropped")
    # The threads pool: no Celery soft time limit (5 s under a lease this short) interrupts
    # the node while the test holds it.
    with (
        own_connection() as holder,
        own_connection() as observer,
        worker_process(concurrency=1, pool="threads", extra_env=SHORT_LEASE),
    ):
        with holder.transaction():
            # SHARE conflicts with an INSERT's ROW EXCLUSIVE: the worker's INSERT waits.
            holder.execute(f"LOCK TABLE {RECORDS_TABLE} IN SHARE MODE")
            execution_id = run(workflow_id, {"n": 7}, wait=None).json()["id"]
            completion = wait_for(
                lambda: backend_running(observer, f'INSERT INTO "{RECORDS_TABLE}"'), timeout=30, interval=0.05
            )
            # The proof that the completion's transaction is open at the kill point, and
            # has written: its INSERT waits for the lock, it has a transaction id (the
            # count-down's UPDATE), and it holds the execution's row.
            assert completion.state == "active" and completion.wait_event_type == "Lock", completion
            assert completion.xact_start is not None and completion.backend_xid is not None, completion
            assert row_locked_by_another(observer, EXECUTIONS_TABLE, execution_id)
            assert observer.execute("SELECT pg_terminate_backend(%s)", [completion.pid]).fetchone() == (True,)
            wait_for(lambda: backend_gone(observer, completion.pid), timeout=10)
        # Nothing half-written: no record, the count-down undone, the node still held.
        assert Record.objects.filter(owner=user, collection="dropped").count() == 0
        assert Execution.objects.get(id=execution_id).remaining_nodes == 2  # log and result
        held = NodeRun.objects.get(execution_id=execution_id, node_id="log")
        assert (held.status, held.attempts, held.attempt_log) == ("running", 1, [])
        assert not row_locked_by_another(observer, EXECUTIONS_TABLE, execution_id)
        sweep_until(lambda: unfinished([execution_id]) == 0)
    execution = Execution.objects.get(id=execution_id)
    assert execution.status == "completed", execution.error
    runs = node_runs(execution_id)
    assert runs["log"].attempts == 2
    assert [entry["n"] for entry in runs["log"].attempt_log] == [2]
    records = Record.objects.filter(owner=user, collection="dropped")
    assert [r.data for r in records] == [{"n": 7}]
    assert execution.outputs == {"result": records.get().id}
    assert execution.remaining_nodes == 0
