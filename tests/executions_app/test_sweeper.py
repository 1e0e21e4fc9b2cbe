"""The sweeper finds lost work in SQL, re-publishes it with the engine's time limits, and
backs off a lost lease nobody claims (no worker runs here: what it publishes is captured)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from django.utils import timezone

from core import heartbeat
from executions_app.engine import sweeper
from executions_app.engine.publish import Publish
from executions_app.models import NodeRun
from tests.support.definitions import edge, input_node, node

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_HOLDER = f"{heartbeat.HOST}|999999999|999999999"  # no heartbeat, no such process


@pytest.fixture
def published(monkeypatch) -> list[Publish]:
    sent: list[Publish] = []
    monkeypatch.setattr(sweeper, "publish_now", lambda items: sent.extend(items))
    return sent


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The backoff's wall clock, moved by the test: now[0] += seconds."""
    now = [1_000_000.0]
    monkeypatch.setattr(sweeper.lost_lease_backoff, "clock", lambda: now[0])
    return now


@pytest.fixture
def fan_out(make_workflow, run) -> str:
    """An execution of six TRANSFORM nodes between root and output, left pending (no worker)."""
    branches = [f"b{i}" for i in range(6)]
    workflow_id = make_workflow(
        [
            input_node(),
            *(node(b, "TRANSFORM", {"value": 1}, timeout_s=42) for b in branches),
            node("result", "OUTPUT", {"value": 1}),
        ],
        [*(edge("start", b) for b in branches), *(edge(b, "result") for b in branches)],
    )
    return run(workflow_id, wait=None).json()["id"]


def node_of(execution_id: str, node_id: str) -> dict[str, Any]:
    """What a node's task carries for the task events (its name and arguments' text)."""
    return {"node_type": "TRANSFORM", "node_id": node_id, "execution_id": UUID(execution_id)}


def running(execution_id: str, node_ids: list[str], *, holder: str, lease_s: float) -> list[int]:
    rows = NodeRun.objects.filter(execution_id=execution_id, node_id__in=node_ids)
    rows.update(
        status="running", attempts=1, claimed_by=holder, lease_until=timezone.now() + timedelta(seconds=lease_s)
    )
    return sorted(rows.values_list("id", flat=True))


def branch_ids(execution_id: str) -> list[int]:
    return sorted(
        NodeRun.objects.filter(execution_id=execution_id).filter(node_id__startswith="b").values_list("id", flat=True)
    )


def test_a_lost_lease_behind_a_full_batch_of_healthy_running_nodes_is_found(fan_out, published, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, sweep_batch=2)
    heartbeat.beat_once()  # this process is a live holder
    healthy = [f"b{i}" for i in range(5)]
    running(fan_out, healthy, holder=heartbeat.holder_identity(), lease_s=600)
    [expired] = running(fan_out, ["b5"], holder=heartbeat.holder_identity(), lease_s=-1)

    assert sweeper.republish_lost_leases(timezone.now()) == 1
    assert [p.node_run_id for p in published] == [expired]


def test_a_dead_holders_node_is_republished_with_the_engine_time_limits(fan_out, published, settings) -> None:
    [lost] = running(fan_out, ["b3"], holder=DEAD_HOLDER, lease_s=600)

    sweeper.republish_lost_leases(timezone.now())

    grace = settings.SWITCHBOARD.lease_grace_s
    assert published == [Publish(lost, "nodes", time_limit=42 + grace, **node_of(fan_out, "b3"))]


def test_a_stale_ready_node_is_republished_with_the_engine_time_limits(fan_out, published, settings) -> None:
    stale = branch_ids(fan_out)[:1]
    NodeRun.objects.filter(id__in=stale).update(ready_at=timezone.now() - timedelta(hours=1))

    assert sweeper.republish_stale_ready(timezone.now()) == 1
    grace = settings.SWITCHBOARD.lease_grace_s
    assert published == [Publish(stale[0], "nodes", time_limit=42 + grace, **node_of(fan_out, "b0"))]


def test_a_lost_lease_nobody_claims_is_republished_with_growing_intervals(fan_out, published, clock, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, sweep_stale_ready_s=10)
    [lost] = running(fan_out, ["b0"], holder=DEAD_HOLDER, lease_s=600)

    def sweep_after(seconds: float) -> int:
        clock[0] += seconds
        published.clear()
        return sweeper.republish_lost_leases(timezone.now())

    assert sweep_after(0) == 1  # at once
    assert sweep_after(2) == 0  # the next sweep: still waiting for a worker
    assert sweep_after(8) == 1  # 10 s after the first
    assert sweep_after(19) == 0
    assert sweep_after(1) == 1  # 20 s after the second
    assert sweep_after(39) == 0
    assert sweep_after(1) == 1  # 40 s after the third
    # A new claim that is lost again starts over: it is a new attempt.
    NodeRun.objects.filter(id=lost).update(attempts=2)
    assert sweep_after(1) == 1


def test_lost_leases_in_backoff_do_not_hide_the_others(fan_out, published, clock, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, sweep_batch=2)
    lost = running(fan_out, [f"b{i}" for i in range(5)], holder=DEAD_HOLDER, lease_s=600)

    sweeper.republish_lost_leases(timezone.now())
    first = [p.node_run_id for p in published]
    published.clear()
    sweeper.republish_lost_leases(timezone.now())
    second = [p.node_run_id for p in published]
    published.clear()
    sweeper.republish_lost_leases(timezone.now())

    assert first == lost[:2]
    assert second == lost[2:4]
    assert [p.node_run_id for p in published] == lost[4:]


def test_without_redis_for_the_backoff_lost_leases_are_still_republished(fan_out, published, monkeypatch) -> None:
    [lost] = running(fan_out, ["b1"], holder=DEAD_HOLDER, lease_s=600)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(sweeper, "get_redis_connection", unreachable)
    monkeypatch.setattr(sweeper.heartbeat, "dead_holders", lambda holders: set(holders))

    assert sweeper.republish_lost_leases(timezone.now()) == 1
    assert sweeper.republish_lost_leases(timezone.now()) == 1  # no backoff then: too often beats never
    assert {p.node_run_id for p in published} == {lost}


def test_a_node_left_running_by_a_dead_worker_in_an_ended_execution_is_closed(fan_out, published, auth_client) -> None:
    """Nothing more starts in an ended execution, so the sweeper does not re-run the node;
    it no longer shows `running` for ever either. A live worker's node is left alone."""
    heartbeat.beat_once()
    [lost] = running(fan_out, ["b0"], holder=DEAD_HOLDER, lease_s=600)
    [alive] = running(fan_out, ["b1"], holder=heartbeat.holder_identity(), lease_s=600)
    assert auth_client.post(f"/api/executions/{fan_out}/cancel").json()["status"] == "canceled"

    assert sweeper.sweep()["abandoned"] == 1

    assert published == []
    closed = NodeRun.objects.get(id=lost)
    assert (closed.status, closed.error["code"], closed.finished_at is not None) == ("failed", "worker_lost", True)
    assert NodeRun.objects.get(id=alive).status == "running"
