"""A worker cut off from the network in the middle of a node, on machines of their own.

The deployment of docker-compose.yml, in network namespaces (tests/support/netns.py):
two workers and beat, each on a host of its own with its own hostname, joined by one
bridge to the machine that holds PostgreSQL and Redis (reached through forwarders, as
containers reach the `postgres` and `redis` services). One worker loses its link while
its node waits on an outside call; to the rest it looks dead, so the other worker takes
the node over and finishes the execution. When the link comes back the first worker
completes its node too, late, and the fence turns that completion away.

The slow node is a call whose answer the test gives, per host (tests/support/held_http.py),
not a WAIT: the first worker's completion then comes after its link is back, whatever the
timing, on PostgreSQL and on SQLite alike (the hosts open the SQLite file directly, which
no partition cuts, and a WAIT ends on its own clock).

The claim is lost through the heartbeat, not the lease: a cut-off worker stops refreshing
its heartbeat key and is taken for dead when the key expires, its lease still running.
The lease (the node's timeout plus the grace) is also the prefork pool's hard time limit
of the task, so a worker past its lease has had its task killed: no late completion can
come from it."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection

from executions_app.models import Execution, NodeRun
from records_app.models import Record
from tests.support.definitions import edge, input_node, node
from tests.support.executions import read_events, status_of
from tests.support.held_http import HeldAnswersServer, held_answers
from tests.support.netns import Host, Network, private_network, unavailable_reason, url_via
from tests.support.tcp_forwarder import forwarding
from tests.support.workers import WorkerProcess, session_database_url, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.worker_process,
    pytest.mark.server,
    pytest.mark.slow,
]

WORKERS = ("w1", "w2")
# A cut-off worker stops beating (every 0.5 s, its key kept 3 s) and is taken for dead;
# beat sends a sweep every second. The defaults (2 s, 6 s, 2 s) only make it slower.
FAST_FAILURE_DETECTION = {
    "SWITCHBOARD_HEARTBEAT_INTERVAL_S": "0.5",
    "SWITCHBOARD_HEARTBEAT_TTL_S": "3",
    "SWITCHBOARD_SWEEP_INTERVAL_S": "1",
    # The held call outlasts the default 30 s on a slow machine, never this.
    "SWITCHBOARD_HTTP_TIMEOUT_S": "100",
    # Celery's line per task that ended (off by default, config/settings_logging.py).
    "SWITCHBOARD_LOG_TASKS": "1",
}
# What the cut-off worker's log says when its late run of the call has ended: `succeeded`
# (it returned, its completion refused or written: the node run tells which) or `raised`.
LATE_CALL_ENDED = re.compile(r"Task node HTTP_REQUEST\[[\w-]+\] (succeeded|raised)")


@pytest.fixture
def network() -> Iterator[Network]:
    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the multi-host test cannot run: {reason}")
        pytest.skip(reason)
    with private_network(*WORKERS, "beat") as made:
        yield made


@contextmanager
def services_for(network: Network, answers: HeldAnswersServer) -> Iterator[dict[str, str]]:
    """The environment of every process on the network: Redis and, unless the database is
    a SQLite file (the hosts share this machine's disk), PostgreSQL, through forwarders
    on the gateway."""
    with ExitStack() as stack:
        redis = urlsplit(settings.REDIS_URL)
        redis_forwarder = stack.enter_context(forwarding(network.gateway, (redis.hostname or "", redis.port or 6379)))
        redis_url = url_via(settings.REDIS_URL, network.gateway, redis_forwarder.port)
        database_url = session_database_url()
        if connection.vendor == "postgresql":
            database = urlsplit(database_url)
            database_forwarder = stack.enter_context(
                forwarding(network.gateway, (database.hostname or "", database.port or 5432))
            )
            database_url = url_via(database_url, network.gateway, database_forwarder.port)
        yield {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CACHE_REDIS_URL": redis_url,
            "SWITCHBOARD_HTTP_ALLOWED_HOSTS": f"{network.gateway}:{answers.port}",
            **FAST_FAILURE_DETECTION,
        }


def beating(host: Host) -> bool:
    """The worker on `host` is ready: its heartbeat is in Redis."""
    return bool(get_redis_connection("default").keys(f"{settings.REDIS_KEY_PREFIX}:heartbeat:{host.name}|*"))


@contextmanager
def deployment(network: Network, env: dict[str, str], schedule: Path) -> Iterator[dict[str, WorkerProcess]]:
    """The compose file's `worker` on each worker host (prefork; one slot, enough here)
    and its `beat`, which sends the sweep, on a host of its own. Yields the workers by
    host once both have a heartbeat in Redis; all logs go to stderr if the test fails."""
    hosts = network.hosts
    workers = {
        name: WorkerProcess("default,nodes", 1, "prefork", env, prefix=hosts[name].command_prefix()) for name in WORKERS
    }
    beat_command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(schedule), "-l", "INFO"]
    beat = WorkerProcess("", 0, "", env, beat_command, prefix=hosts["beat"].command_prefix())
    processes = [*workers.values(), beat]
    try:
        for process in processes:
            process.start()
        wait_for(lambda: all(beating(hosts[name]) for name in WORKERS), timeout=60, interval=0.2)
        yield workers
    except BaseException:
        for process in processes:
            sys.stderr.write(f"--- {process.log_path.name}\n{process.log()[-4000:]}\n")
        raise
    finally:
        for process in processes:
            process.stop()


def call_then_write(answers: HeldAnswersServer) -> tuple[list[dict], list[dict]]:
    """The held call, then a DATABASE insert of its answer, then the answer as the result."""
    answer = "{{ nodes.call.output.json.answered_to }}"
    insert = {"operation": "insert", "collection": "partition", "document": {"answered_to": answer}}
    nodes = [
        input_node(),
        node("call", "HTTP_REQUEST", {"url": answers.url()}),
        node("log", "DATABASE", insert),
        node("result", "OUTPUT", {"value": answer}),
    ]
    return nodes, [edge("start", "call"), edge("call", "log"), edge("log", "result")]


def call_run(execution_id: str) -> NodeRun:
    return NodeRun.objects.get(execution_id=execution_id, node_id="call")


@pytest.mark.parametrize("late", ["while_the_takeover_runs", "after_the_execution_ended"])
def test_a_cut_off_workers_late_completion_is_refused(
    late, network, make_workflow, run, user, auth_client, browser, tmp_path: Path
) -> None:
    """`late`: when the first worker's call is answered, its link back: while the second
    claim still holds the node (only the claim's attempt number fences it out), or once
    the execution ended."""
    hosts = network.hosts
    with (
        held_answers(network.gateway) as answers,
        services_for(network, answers) as env,
        deployment(network, env, tmp_path / "beat-schedule") as workers,
    ):
        execution_id = run(make_workflow(*call_then_write(answers)), wait=None).json()["id"]
        # Kill point, the link cut: the call is claimed and its request at the server, unanswered.
        first_caller = wait_for(lambda: list(answers.callers), timeout=30)[0]
        cut_name = next(name for name in WORKERS if hosts[name].address == first_caller)
        cut_off, other = hosts[cut_name], next(hosts[name] for name in WORKERS if name != cut_name)
        call = call_run(execution_id)
        assert (call.status, call.attempts) == ("running", 1)
        assert call.claimed_by.startswith(f"{cut_off.name}|")
        cut_off.cut()

        # Its heartbeat lapses, a sweep re-publishes the call, the other worker claims it
        # and makes the call again.
        wait_for(lambda: other.address in answers.callers, timeout=30, interval=0.1)

        def complete_late() -> str:
            """The link is back and the first call answered: its worker completes the node."""
            cut_off.restore()
            answers.release(cut_off.address)
            return wait_for(lambda: LATE_CALL_ENDED.search(workers[cut_name].log()), timeout=60, interval=0.2)[1]

        def finish() -> None:
            answers.release(other.address)
            wait_for(lambda: Execution.objects.get(id=execution_id).status == "completed", timeout=30, interval=0.1)

        if late == "while_the_takeover_runs":
            late_call_ended = complete_late()
            # Refused: the node is still the second claim's, running.
            call = call_run(execution_id)
            assert (call.status, call.attempts, call.attempt_log) == ("running", 2, [])
            assert call.claimed_by.startswith(f"{other.name}|")
            finish()
        else:
            finish()
            late_call_ended = complete_late()

    assert late_call_ended == "succeeded"  # refused quietly: no error, nothing for Celery to report
    execution = status_of(auth_client, execution_id)
    assert execution["status"] == "completed"
    assert execution["outputs"] == {"result": other.address}  # the second claim's answer
    call = call_run(execution_id)
    assert (call.status, call.attempts) == ("completed", 2)
    assert call.claimed_by.startswith(f"{other.name}|")
    assert [entry["n"] for entry in call.attempt_log] == [2]  # nothing of the refused attempt 1
    # The outside call is made once per claim (at least once); what follows it, once.
    assert answers.callers == [cut_off.address, other.address]
    assert NodeRun.objects.get(execution_id=execution_id, node_id="log").attempts == 1
    records = Record.objects.filter(owner=user, collection="partition")
    assert [record.data for record in records] == [{"answered_to": other.address}]
    call_events = [e["status"] for _, e in read_events(browser, execution_id) if e.get("node_id") == "call"]
    assert call_events.count("completed") == 1
