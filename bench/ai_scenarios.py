"""AI figures against the provider emulator (bench/NOTES.md): node overhead beside a direct
SDK call, fallback switch time after a fast failure, and what an open circuit costs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django_redis import get_redis_connection

from ai_providers.base import Completion
from ai_providers.registry import get_provider
from ai_providers.services import complete_with_fallback
from executions_app.models import NodeRun
from workflows_app.services import workflow_create

# Executions for the AI node's figures: with 40, a p50 moved with sampling as well as
# with the machine; 200 leave mostly the machine (bench/NOTES.md).
ROUNDS = 200
DIRECT_MODEL = "qwen/qwen-2.5-72b-instruct"
SWITCHES = 200


class Emulator:
    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(base_url=url, trust_env=False, timeout=5)

    def fault(self, **fault: object) -> None:
        self.http.post("/_emulator/faults", json=fault).raise_for_status()

    def clear(self) -> None:
        self.http.post("/_emulator/reset").raise_for_status()

    def calls(self, provider: str) -> int:
        return self.http.get("/_emulator/calls").json()["providers"].get(provider, 0)


def wait_until_up(emulator: Emulator) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            emulator.clear()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the provider emulator did not start")


def direct_sdk_call_ms() -> float:
    """One call of the floor: the request the node's adapter sends (the OpenRouter route of
    `code_generation`: model, the prompt, the default max_tokens) on the same openai SDK
    client (its timeouts, no SDK retries), called directly, with none of our routing,
    quotas or bookkeeping."""
    client = get_provider("openrouter").client
    started = time.perf_counter()
    client.chat.completions.create(
        model=DIRECT_MODEL,
        messages=[{"role": "user", "content": "print hello"}],
        max_tokens=settings.AI_PROVIDERS["DEFAULT_MAX_TOKENS"],
    )
    return (time.perf_counter() - started) * 1000


def direct_back_to_back_ms() -> list[float]:
    """Direct calls one after another: client and emulator never idle in between, which
    makes each call cheaper than one made at a node's pace (reported, not the floor)."""
    for _ in range(5):
        direct_sdk_call_ms()
    return [direct_sdk_call_ms() for _ in range(ROUNDS)]


def ai_node_ms(user: Any, timed_execution: Callable[[Any, Any], float]) -> tuple[list[float], list[float], list[float]]:
    """AI node durations (claim to completion), their overhead beyond the provider call,
    and the floor: a direct SDK call after each execution, so that the emulator and the
    machine sit idle between calls as long as they do for the node's own call."""
    definition = {
        "nodes": [
            {"id": "start", "type": "INPUT", "config": {"fields": {}}},
            {"id": "code", "type": "AI_PROCESSOR", "config": {"task_type": "code_generation", "prompt": "print hello"}},
            {"id": "result", "type": "OUTPUT", "config": {"value": "{{ nodes.code.output.text }}"}},
        ],
        "edges": [{"source": "start", "target": "code"}, {"source": "code", "target": "result"}],
    }
    workflow_id = workflow_create(owner=user, name="ai", description="", definition=definition).id
    for _ in range(5):
        timed_execution(user, workflow_id)
        direct_sdk_call_ms()
    direct = []
    for _ in range(ROUNDS):
        timed_execution(user, workflow_id)
        direct.append(direct_sdk_call_ms())
    runs = list(NodeRun.objects.filter(execution__workflow_id=workflow_id, node_id="code").order_by("-id")[:ROUNDS])
    called = {(r.output["provider"], r.output["model"]) for r in runs}
    assert called == {("openrouter", DIRECT_MODEL)}, f"the node did not make the floor's call: {called}"
    durations = [(r.finished_at - r.started_at).total_seconds() * 1000 for r in runs]
    overheads = [d - r.output["latency_ms"] for d, r in zip(durations, runs, strict=True)]
    return durations, overheads, direct


def fallback_switch_ms(emulator: Emulator) -> list[float]:
    """Time spent between a primary's fast failure and the backup's answer, beyond the two
    calls themselves: total minus the calls' own latencies."""
    emulator.fault(provider="gemini", status=500)
    switches = []
    for _ in range(SWITCHES):
        log: list[dict] = []
        started = time.perf_counter()
        result = complete_with_fallback(
            task_type="content_generation", request=Completion(prompt="hi"), user_id=None, attempt_log=log
        )
        total = (time.perf_counter() - started) * 1000
        assert result.fallback_used, log
        switches.append(total - sum(entry.get("latency_ms") or 0 for entry in log))
        _reset_breakers()  # measure the switch after a real failure, not an open circuit
    emulator.clear()
    return switches


def open_circuit_calls(emulator: Emulator) -> dict[str, int]:
    """After the breaker opens, further requests cost the failing provider no calls."""
    conf = settings.AI_PROVIDERS
    conf.update(BREAKER_THRESHOLD=3, BREAKER_COOLDOWN_S=300)
    emulator.clear()
    emulator.fault(provider="gemini", status=500)
    for _ in range(3):
        complete_with_fallback(
            task_type="content_generation", request=Completion(prompt="x"), user_id=None, attempt_log=[]
        )
    before = emulator.calls("gemini")
    for _ in range(50):
        complete_with_fallback(
            task_type="content_generation", request=Completion(prompt="x"), user_id=None, attempt_log=[]
        )
    calls = emulator.calls("gemini") - before
    emulator.clear()
    _reset_breakers()
    return {"requests_while_open": 50, "calls_to_open_provider": calls}


def _reset_breakers() -> None:
    redis = get_redis_connection("default")
    for key in redis.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:ai:*", count=1000):
        redis.delete(key)


def run_all(user: Any, emulator_url: str, timed_execution: Callable, summary: Callable) -> dict[str, Any]:
    emulator = Emulator(emulator_url)
    wait_until_up(emulator)
    back_to_back = direct_back_to_back_ms()
    durations, overheads, direct = ai_node_ms(user, timed_execution)
    return {
        "direct_sdk_call_ms": summary(direct),
        "direct_sdk_call_back_to_back_ms": summary(back_to_back),
        "ai_node_duration_ms": summary(durations),
        "ai_node_overhead_beyond_its_call_ms": summary(overheads),
        "ai_node_minus_direct_call_p50_ms": round(summary(durations)["p50"] - summary(direct)["p50"], 2),
        "fallback_switch_ms": summary(fallback_switch_ms(emulator)),
        "open_circuit": open_circuit_calls(emulator),
    }
