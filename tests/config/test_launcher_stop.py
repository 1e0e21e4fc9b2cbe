"""The launcher's ordered stop (development/launcher_stop.py), with real processes: small
shell entries that say when they get their stop signal, under a manager in its own
process, stopped by a real SIGINT as Ctrl-C sends it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest

from development.launcher import LaunchError, stop_order
from tests.support.launcher import ROOT

MANAGER = """
import json, sys
from development.launcher_stop import OrderedManager, Stage
stages = [Stage(tuple(names), limit_s) for names, limit_s in json.loads(sys.argv[1])]
manager = OrderedManager(stages)
for name, command in json.loads(sys.argv[2]).items():
    manager.add_process(name, command)
manager.loop()
sys.exit(manager.returncode)
"""


def entry(name: str, on_term: str) -> str:
    """A shell entry that says it is up, runs `on_term` on SIGTERM, and waits until then."""
    return f"trap '{on_term}' TERM; echo {name} up; while :; do sleep 0.05; done"


def run_manager(
    stages: list, entries: dict[str, str], *, stop_by: signal.Signals | None = signal.SIGINT, again_after: str = ""
) -> tuple:
    """Starts the manager, waits until every entry said it is up, sends `stop_by` (as
    Ctrl-C does), and again once it printed `again_after` if given; returns (its return
    code, the lines it printed, without prefixes)."""
    manager = subprocess.Popen(
        [sys.executable, "-c", MANAGER, json.dumps(stages), json.dumps(entries)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert manager.stdout is not None
    lines: list[str] = []
    up: set[str] = set()
    try:
        while up != set(entries):
            line = manager.stdout.readline()
            assert line, "the manager exited early:\n" + "".join(lines)
            lines.append(line)
            up |= {name for name in entries if line.rstrip().endswith(f"| {name} up")}
        if stop_by is not None:
            manager.send_signal(stop_by)
        while again_after:
            line = manager.stdout.readline()
            assert line, "the manager exited early:\n" + "".join(lines)
            lines.append(line)
            if again_after in line:
                manager.send_signal(signal.SIGINT)
                break
        lines += manager.stdout.readlines()
        returncode = manager.wait(timeout=60)
    finally:
        manager.kill()
    return returncode, [re.sub(r"^\S+ \S+\s*\| ", "", line.rstrip()) for line in lines]


def position(lines: list[str], text: str) -> int:
    found = [i for i, line in enumerate(lines) if text in line]
    assert found, f"{text!r} not printed:\n" + "\n".join(lines)
    return found[0]


@pytest.mark.slow
def test_ctrl_c_stops_the_stages_in_order_each_after_the_one_before_exited() -> None:
    returncode, lines = run_manager(
        [[["web", "beat"], 10], [["worker"], 10], [["redis"], 10]],
        {
            "web": entry("web", "echo web got TERM; exit 0"),
            "beat": entry("beat", "echo beat got TERM; exit 0"),
            "redis": entry("redis", "echo redis got TERM; exit 0"),
            # A warm shutdown: the running task ends first, and then the process.
            "worker": entry("worker", "echo worker finishing; sleep 0.5; echo worker finished its task; exit 0"),
        },
    )
    assert returncode == 0
    assert max(position(lines, "web stopped"), position(lines, "beat stopped")) < position(lines, "worker finishing")
    assert position(lines, "worker finished its task") < position(lines, "worker stopped (rc=0)")
    assert position(lines, "worker stopped") < position(lines, "redis got TERM")
    assert "killing" not in "\n".join(lines)


@pytest.mark.slow
def test_a_stage_still_running_at_its_limit_is_killed_and_the_next_one_still_stops_cleanly() -> None:
    returncode, lines = run_manager(
        [[["stuck"], 0.5], [["redis"], 10]],
        {"stuck": entry("stuck", ""), "redis": entry("redis", "echo redis got TERM; exit 0")},  # '' ignores TERM
    )
    assert returncode == 0
    assert position(lines, "killing stuck: still running") < position(lines, "stuck stopped (rc=-9)")
    assert position(lines, "stuck stopped") < position(lines, "redis got TERM")
    assert position(lines, "redis got TERM") < position(lines, "redis stopped (rc=0)")


@pytest.mark.slow
def test_ctrl_c_again_kills_what_the_stage_waits_for_and_the_next_stages_still_stop_in_order() -> None:
    returncode, lines = run_manager(
        [[["worker"], 600], [["redis"], 10]],
        {"worker": entry("worker", "echo worker busy"), "redis": entry("redis", "echo redis got TERM; exit 0")},
        again_after="worker busy",
    )
    assert returncode == 0
    assert position(lines, "SIGINT received again") < position(lines, "killing worker: still running")
    assert position(lines, "worker stopped (rc=-9)") < position(lines, "redis got TERM")
    assert position(lines, "redis got TERM") < position(lines, "redis stopped (rc=0)")


@pytest.mark.slow
def test_an_entry_that_exits_by_itself_stops_the_others_in_order_with_its_return_code() -> None:
    returncode, lines = run_manager(
        [[["web"], 10], [["worker"], 10], [["redis"], 10]],
        {
            "web": "echo web up; sleep 0.5; echo web crashed; exit 3",
            "worker": entry("worker", "echo worker got TERM; exit 0"),
            "redis": entry("redis", "echo redis got TERM; exit 0"),
        },
        stop_by=None,
    )
    assert returncode == 3
    assert position(lines, "web exited by itself") < position(lines, "worker got TERM")
    assert position(lines, "worker stopped") < position(lines, "redis got TERM")


def test_the_workers_time_to_finish_is_a_number_of_seconds() -> None:
    stages = stop_order({"SWITCHBOARD_WORKER_STOP_S": "90"})
    names = [stage.names for stage in stages]
    assert names == [("web", "beat", "flower"), ("worker", "ai-worker"), ("emulator", "redis")]
    assert stages[1].limit_s == 90
    assert stop_order({})[1].limit_s == 30
    for value in ("soon", "-1", "nan"):
        with pytest.raises(LaunchError, match="SWITCHBOARD_WORKER_STOP_S"):
            stop_order({"SWITCHBOARD_WORKER_STOP_S": value})
