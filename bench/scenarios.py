"""The measured scenarios; each returns its figures beside the floor it is compared to."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from celery import chain
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone
from django_redis import get_redis_connection

from bench import api_scenarios
from bench.design_floor import create_nodes, design_floor_step
from executions_app.models import Execution, ExecutionStatus
from executions_app.selectors import execution_wait
from executions_app.services import execution_create
from workers.tasks import ping
from workflows_app.services import workflow_create

CHAIN_LENGTH = 20
ROUNDS = 30


def bench_user() -> Any:
    """The bench's user; its password stays on the object, for the API's login."""
    password = secrets.token_urlsafe(16)
    user = get_user_model().objects.create_user("bench", "bench@example.com", password)
    user.bench_password = password
    return user


def chain_definition(length: int) -> dict:
    """INPUT, length - 2 TRANSFORMs, OUTPUT: `length` nodes in one line."""
    nodes = [{"id": "n0", "type": "INPUT", "config": {"fields": {"x": {"type": "integer", "default": 1}}}}]
    for i in range(1, length - 1):
        nodes.append({"id": f"n{i}", "type": "TRANSFORM", "config": {"value": f"{{{{ inputs.x + {i} }}}}"}})
    nodes.append(
        {"id": f"n{length - 1}", "type": "OUTPUT", "config": {"value": f"{{{{ nodes.n{length - 2}.output }}}}"}}
    )
    edges = [{"source": f"n{i}", "target": f"n{i + 1}"} for i in range(length - 1)]
    return {"nodes": nodes, "edges": edges}


def ten_node_definition() -> dict:
    """INPUT, a fan-out of 4, a join, 3 more steps, OUTPUT: the shape of a real workflow."""
    nodes = [{"id": "start", "type": "INPUT", "config": {"fields": {"x": {"type": "integer", "default": 1}}}}]
    edges = []
    for i in range(4):
        nodes.append({"id": f"fan{i}", "type": "TRANSFORM", "config": {"value": f"{{{{ inputs.x * {i} }}}}"}})
        edges.append({"source": "start", "target": f"fan{i}"})
    join = " + ".join(f"nodes.fan{i}.output" for i in range(4))
    nodes.append({"id": "join", "type": "TRANSFORM", "config": {"value": f"{{{{ {join} }}}}"}})
    edges += [{"source": f"fan{i}", "target": "join"} for i in range(4)]
    previous = "join"
    for step in ("check", "shape", "label"):
        nodes.append({"id": step, "type": "TRANSFORM", "config": {"value": f"{{{{ nodes.{previous}.output }}}}"}})
        edges.append({"source": previous, "target": step})
        previous = step
    nodes.append(
        {"id": "result", "type": "OUTPUT", "config": {"value": {"total": f"{{{{ nodes.{previous}.output }}}}"}}}
    )
    edges.append({"source": previous, "target": "result"})
    return {"nodes": nodes, "edges": edges}


def minimal_definition() -> dict:
    return chain_definition(2)


def timed_execution(user: Any, workflow_id: Any) -> float:
    started = time.perf_counter()
    execution, _ = execution_create(user=user, workflow_id=workflow_id, inputs={})
    assert execution_wait(execution.id, 60, poll_s=0.001), "execution did not finish"
    elapsed = time.perf_counter() - started
    status = Execution.objects.filter(id=execution.id).values_list("status", flat=True).get()
    assert status == ExecutionStatus.COMPLETED, status
    return elapsed * 1000


def timed_bare_chain(length: int, design_floor: bool = False) -> float:
    """A Celery chain of `length` tasks: no-op ones, or with design_floor the tasks of
    bench/design_floor.py, each making the two durable writes the execution semantics
    (docs/architecture.md) ask of a node."""
    redis = get_redis_connection("default")
    key = f"{settings.REDIS_KEY_PREFIX}:bench:{secrets.token_hex(4)}"
    if design_floor:
        ids = create_nodes(length)
        nexts = [*ids[1:], None]
        tasks = [
            design_floor_step.si(i, n, wake_key=key if n is None else None) for i, n in zip(ids, nexts, strict=True)
        ]
    else:
        tasks = [ping.si() for _ in range(length - 1)] + [ping.si(wake_key=key)]
    started = time.perf_counter()
    chain(*tasks).apply_async(queue="nodes")
    # Blocks like timed_execution's wait does: neither waiter polls the CPU they share.
    # Slices under the Redis client's 1 s socket timeout.
    deadline = started + 60
    while not redis.blpop([key], timeout=0.8):
        assert time.perf_counter() < deadline, "the bare chain did not finish"
    return (time.perf_counter() - started) * 1000


def throughput(user: Any, workflow_id: Any, count: int) -> float:
    """Executions finished per second: `count` submitted one after another, then waited for.
    The wait checks every 20 ms with one small query: checking more often, or by the list
    of ids (it once ran two such queries every 10 ms), took a seventh of the CPU the
    workers were being timed on."""
    since = timezone.now()
    started = time.perf_counter()
    for _ in range(count):
        execution_create(user=user, workflow_id=workflow_id, inputs={})
    ours = Execution.objects.filter(workflow_id=workflow_id, created_at__gte=since)
    while True:
        by_status = dict(ours.values_list("status").annotate(n=Count("id")).order_by())
        assert not by_status.get(ExecutionStatus.FAILED), f"{by_status[ExecutionStatus.FAILED]} executions failed"
        if by_status.get(ExecutionStatus.COMPLETED, 0) >= count:
            return count / (time.perf_counter() - started)
        time.sleep(0.02)


def run_all(user: Any, summary: Callable[[list[float]], dict]) -> dict[str, Any]:
    chain_wf = workflow_create(owner=user, name="chain", description="", definition=chain_definition(CHAIN_LENGTH)).id
    ten_wf = workflow_create(owner=user, name="ten", description="", definition=ten_node_definition()).id
    minimal_wf = workflow_create(owner=user, name="minimal", description="", definition=minimal_definition()).id
    for _ in range(3):  # warm up: imports, connections, caches in both worker processes
        timed_execution(user, chain_wf)
        timed_bare_chain(CHAIN_LENGTH)
        timed_bare_chain(CHAIN_LENGTH, design_floor=True)

    # Interleaved, so the floors and the engine see the same moments of a shared machine.
    bare, floor, engine = [], [], []
    for _ in range(ROUNDS):
        bare.append(timed_bare_chain(CHAIN_LENGTH))
        floor.append(timed_bare_chain(CHAIN_LENGTH, design_floor=True))
        engine.append(timed_execution(user, chain_wf))
    per_task_bare = [ms / CHAIN_LENGTH for ms in bare]
    per_task_floor = [ms / CHAIN_LENGTH for ms in floor]
    per_node = [ms / CHAIN_LENGTH for ms in engine]
    ten = [timed_execution(user, ten_wf) for _ in range(ROUNDS * 2)]
    ten_node_execution = Execution.objects.filter(workflow_id=ten_wf).values_list("id", flat=True).first()
    return {
        "chain_length": CHAIN_LENGTH,
        "bare_celery_chain_per_task_ms": summary(per_task_bare),
        "engine_chain_per_node_ms": summary(per_node),
        "per_node_ratio_p50": round(summary(per_node)["p50"] / summary(per_task_bare)["p50"], 2),
        "design_floor_chain_per_task_ms": summary(per_task_floor),
        "design_floor_ratio_p50": round(summary(per_task_floor)["p50"] / summary(per_task_bare)["p50"], 2),
        "ten_node_end_to_end_ms": summary(ten),
        "minimal_executions_per_s": round(throughput(user, minimal_wf, 300), 1),
        "ten_node_executions_per_s": round(throughput(user, ten_wf, 100), 1),
        "api": api_scenarios.api_latency(user, user.bench_password, minimal_wf, ten_node_execution, summary),
        "cached_reads_ms": api_scenarios.cached_reads(user, ten_node_execution, summary),
    }
