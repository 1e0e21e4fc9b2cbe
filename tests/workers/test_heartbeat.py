"""A worker's heartbeat tells every host which of its pool children died, so a node held
by a killed child is recovered in seconds by a sweeper on any machine."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace

import pytest
from django_redis import get_redis_connection

from core import heartbeat
from tests.support.workers import wait_for, worker_process


def beat_of(main_pid: int) -> dict:
    raw = get_redis_connection("default").get(heartbeat.key_for(heartbeat.HOST, main_pid))
    return json.loads(raw) if raw else {}


@pytest.mark.worker_process
@pytest.mark.django_db(transaction=True)
def test_a_killed_pool_child_is_seen_dead_from_another_host() -> None:
    with worker_process(queues="default", concurrency=2) as worker:
        main = worker.process.pid
        children = wait_for(lambda: len(beat_of(main).get("children", ())) == 2 and beat_of(main)["children"])
        victim, survivor = children

        os.kill(victim, signal.SIGKILL)
        beat = wait_for(lambda: victim in beat_of(main).get("gone", ()) and beat_of(main))

        assert victim not in beat["children"] and survivor in beat["children"]
        # A sweeper elsewhere cannot look for the process: it reads the same heartbeat.
        redis = get_redis_connection("default")
        elsewhere = heartbeat.key_for("another-host", main)
        redis.set(elsewhere, json.dumps(beat), ex=30)
        try:
            held_there = {f"another-host|{main}|{victim}", f"another-host|{main}|{survivor}"}
            assert heartbeat.dead_holders(held_there) == {f"another-host|{main}|{victim}"}
            assert heartbeat.dead_holders({f"another-host|{main + 1}|{survivor}"}) != set()  # no heartbeat at all
        finally:
            redis.delete(elsewhere)  # not a worker the dashboard should list


def test_a_heartbeat_that_expires_between_beats_stops_the_start(settings) -> None:
    """Live workers would be taken for dead between two beats, and their nodes run twice."""
    from workers.checks import check_heartbeat_timing

    assert check_heartbeat_timing() == []  # the defaults: a beat every 2 s, kept 6 s
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, heartbeat_interval_s=10, heartbeat_ttl_s=6)
    [error] = check_heartbeat_timing()
    assert error.id == "config.E003" and "SWITCHBOARD_HEARTBEAT_TTL_S" in error.msg
    # The key's TTL is whole seconds: 5.2 s is 5 s, under twice 2.6 s.
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, heartbeat_interval_s=2.6, heartbeat_ttl_s=5.2)
    assert [e.id for e in check_heartbeat_timing()] == ["config.E003"]
