"""How `make run` stops: honcho's Manager, stopping its entries in stages.

honcho stops every entry at the same moment. The embedded Redis then went down under the
workers while they handed back their messages and removed their heartbeats (a dozen
tracebacks on every Ctrl-C), and everything still running 5 s later was killed, the node a
worker was running included. Here the entries stop stage by stage: those that make work
(web, beat, Flower) first, then the workers, which finish the nodes they run, then what
the workers need until their last moment (Redis, the provider emulator). A stage starts
when every process of the one before has exited, or was killed at the end of that stage's
limit; a second Ctrl-C ends the current stage's wait at once.

The stop signal goes to the entry's own process (each entry is one process, execed by its
shell): Celery's prefork children die on a SIGTERM of their own, so signalling the group
would cut the very nodes a warm shutdown lets finish. A kill goes to the whole group.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from honcho.manager import Manager


@dataclass(frozen=True)
class Stage:
    names: tuple[str, ...]
    limit_s: float  # what of the stage still runs after this many seconds is killed


class OrderedManager(Manager):
    """Runs its entries as honcho does; stops them by `stages` (an entry no stage names
    stops in the first), each with SIGTERM. `returncode` is 0 after a stop asked for by
    SIGINT or SIGTERM, else the return code of the entry whose exit stopped the others."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        super().__init__()
        self.stages = list(stages)
        self._received: list[signal.Signals] = []  # set by the signal handler, read by the loop
        self._stopping = False
        self._stage = 0
        self._stage_deadline: float | None = None
        self._signalled: set[str] = set()
        self._killed: set[str] = set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def loop(self) -> None:
        def received(signum: int, frame: Any) -> None:
            # Only noted here: printing from a handler could interrupt a print of the loop.
            self._received.append(signal.Signals(signum))

        signal.signal(signal.SIGTERM, received)
        signal.signal(signal.SIGINT, received)
        self._start()
        while True:
            try:
                message = self.events.get(timeout=0.1)
            except queue.Empty:
                if self._all_started() and self._all_stopped():
                    break
            else:
                self._handle(message)
            while self._received:
                self._on_signal(self._received.pop(0))
            if self._stopping:
                self._advance()

    def _handle(self, message: Any) -> None:
        if message.type == "line":
            self._printer.write(message)
        elif message.type == "start":
            self._processes[message.name]["pid"] = message.data["pid"]
            self._system_print(f"{message.name} started (pid={message.data['pid']})\n")
        elif message.type == "stop":
            returncode = message.data["returncode"]
            self._processes[message.name]["returncode"] = returncode
            self._system_print(f"{message.name} stopped (rc={returncode})\n")
            if not self._stopping:
                self.returncode = returncode
                self._system_print(f"{message.name} exited by itself: stopping the others\n")
                self._stopping = True

    def _on_signal(self, signum: signal.Signals) -> None:
        if not self._stopping:
            self._stopping = True
            self.returncode = 0
            self._system_print(f"{signum.name} received: stopping in order (Ctrl-C again skips a wait)\n")
        elif self._stage_deadline is not None:
            self._system_print(f"{signum.name} received again: no more waiting for this stage\n")
            self._stage_deadline = 0.0

    def _stages(self) -> list[Stage]:
        staged = {name for stage in self.stages for name in stage.names}
        unstaged = tuple(name for name in self._processes if name not in staged)
        first, *rest = self.stages or [Stage((), 10)]
        return [Stage(first.names + unstaged, first.limit_s), *rest]

    def _advance(self) -> None:
        """One step of the stop: signals the current stage, kills it at its limit, and
        moves on once every process of the stage has exited."""
        stages = self._stages()
        while self._stage < len(stages):
            stage = stages[self._stage]
            running = [n for n in stage.names if n in self._processes and "returncode" not in self._processes[n]]
            if not running:
                self._stage += 1
                self._stage_deadline = None
                continue
            now = time.monotonic()
            if self._stage_deadline is None:
                self._stage_deadline = now + stage.limit_s
                self._system_print(f"stopping {', '.join(running)} (killed after {stage.limit_s:g}s)\n")
            for name in running:
                pid = self._processes[name].get("pid")
                if pid is None:
                    continue  # signalled once its start is known
                if name not in self._signalled:
                    self._signalled.add(name)
                    self._send(pid, signal.SIGTERM)
                if now >= self._stage_deadline and name not in self._killed:
                    self._killed.add(name)
                    self._system_print(f"killing {name}: still running\n")
                    self._procmgr.kill(pid)  # its whole process group
            return

    @staticmethod
    def _send(pid: int, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # it exited already; its stop message is on its way
            os.kill(pid, signum)
