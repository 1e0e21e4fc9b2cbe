"""Celery's task events as Flower receives them: `app.events.Receiver` on the events
exchange, in a thread, collecting every event while a test runs."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from config.celery import app
from tests.support.workers import wait_for

PROBE = "switchboard-test-probe"  # an event type of the test's own, to know it listens


class TaskEvents:
    """The events received so far, in the order they arrived."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def of_task(self, task_id: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("uuid") == task_id]

    def types_of(self, task_id: str) -> list[str]:
        return [event["type"] for event in self.of_task(task_id)]

    def find(self, predicate: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
        return [event for event in self.events if predicate(event)]

    def wait_for(self, predicate: Callable[[dict[str, Any]], Any], timeout: float = 30.0) -> dict[str, Any]:
        """The first event for which predicate() is truthy, once it arrived."""
        return wait_for(lambda: next(iter(self.find(predicate)), None), timeout=timeout)


@contextmanager
def task_events() -> Iterator[TaskEvents]:
    """Collects every event on the exchange from the moment it yields: a probe event of
    its own is sent until the receiver sees it, so nothing sent afterwards is missed
    (Redis delivers events only to receivers already subscribed)."""
    collected = TaskEvents()
    receivers: list[Any] = []
    failures: list[BaseException] = []

    def capture() -> None:
        try:
            with app.connection_for_read() as connection:
                receiver = app.events.Receiver(connection, handlers={"*": collected.add})
                receivers.append(receiver)
                receiver.capture(limit=None, timeout=None, wakeup=False)
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    thread = threading.Thread(target=capture, name="task-events", daemon=True)
    thread.start()
    token = secrets.token_hex(4)

    def probe_seen() -> bool:
        if failures:
            raise AssertionError(f"the event receiver failed: {failures[0]!r}")
        with app.events.default_dispatcher() as dispatcher:
            dispatcher.send(PROBE, token=token)
        return bool(collected.find(lambda event: event.get("type") == PROBE and event.get("token") == token))

    try:
        wait_for(probe_seen, timeout=30, interval=0.2)
        yield collected
    finally:
        for receiver in receivers:
            receiver.should_stop = True
        thread.join(timeout=10)
