"""An open-loop HTTP load: requests leave on a fixed schedule (the i-th at start + i/rate)
whatever the earlier answers, so a slow server shows as latency instead of lowering the
rate it is offered. A request's latency is taken from its scheduled time, not from the
moment a client thread was free to send it, so a wait for a free thread counts too."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class Sent:
    due: float  # perf_counter seconds
    sent: float
    answered: float
    status: int  # 0: no answer (a transport error)


@dataclass
class LoadRun:
    rate: float
    started: float  # the first request's scheduled time
    requests: list[Sent] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)

    def figures(self, summary: Callable[[list[float]], dict]) -> dict:
        answered = [r for r in self.requests if r.status]
        ok = [r for r in answered if 200 <= r.status < 300]
        statuses = Counter(r.status for r in answered)
        last_sent = max(r.sent for r in self.requests)
        last_answer = max(r.answered for r in self.requests)
        return {
            "requests": len(self.requests),
            "scheduled_per_s": self.rate,
            # Sent: what left the clients, over the time it took them; below the schedule
            # only when every client thread was waiting for an answer.
            "sent_per_s": round(len(self.requests) / (last_sent - self.started), 1),
            # Accepted: the 2xx answers, over the time until the last answer came back.
            "accepted_per_s": round(len(ok) / (last_answer - self.started), 1),
            "latency_ms": summary([(r.answered - r.due) * 1000 for r in answered]),
            # How late a request left after its scheduled time (all client threads busy).
            "sent_late_ms": summary([(r.sent - r.due) * 1000 for r in self.requests]),
            "status_2xx": len(ok),
            "status_5xx": sum(n for s, n in statuses.items() if s >= 500),
            "status_other": {str(s): n for s, n in sorted(statuses.items()) if not (200 <= s < 300 or s >= 500)},
            "no_answer": len(self.transport_errors),
            "no_answer_examples": self.transport_errors[:3],
        }


def open_loop(
    send: Callable[[httpx.Client], httpx.Response],
    warm: Callable[[httpx.Client], httpx.Response],
    base: str,
    headers: dict[str, str],
    rate: float,
    duration_s: float,
    clients: int,
) -> LoadRun:
    """`rate` x `duration_s` requests from `clients` threads, each on a kept connection
    opened (with `warm`) before the first scheduled time."""
    total = round(rate * duration_s)
    next_index = iter(range(total))
    take = threading.Lock()
    ready = threading.Barrier(clients + 1)
    run = LoadRun(rate=rate, started=0.0)
    record = threading.Lock()

    def client() -> None:
        mine: list[Sent] = []
        errors: list[str] = []
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            warm(http).raise_for_status()
            ready.wait()
            while True:
                with take:
                    index = next(next_index, None)
                if index is None:
                    break
                due = run.started + index / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                sent = time.perf_counter()
                try:
                    status = send(http).status_code
                except httpx.TransportError as error:
                    status = 0
                    errors.append(f"{type(error).__name__}: {error}")
                mine.append(Sent(due, sent, time.perf_counter(), status))
        with record:
            run.requests.extend(mine)
            run.transport_errors.extend(errors)

    threads = [threading.Thread(target=client, name=f"load-client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    # Every connection is open before the clock starts; the first request leaves shortly after.
    run.started = time.perf_counter() + 0.2
    ready.wait()
    for thread in threads:
        thread.join()
    return run
