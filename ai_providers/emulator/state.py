"""Faults and call counters of a running emulator, shared by its request threads."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field

PROVIDER_NAMES = ("gemini", "groq", "huggingface", "openrouter", "openai_compatible")
FAULT_STATUSES = (400, 401, 402, 403, 404, 429, 500, 502, 503, 504)


class FaultError(ValueError):
    """A fault description that cannot be applied; the control API answers 400."""


@dataclass
class Fault:
    """What the next matching requests get instead of a normal answer."""

    provider: str
    model: str | None = None
    status: int | None = None
    retry_after: float | None = None
    latency_ms: int = 0
    quota: bool = False
    malformed: bool = False
    bad_json: bool = False  # a well-formed reply whose text is not the JSON that was asked for
    empty: bool = False  # a well-formed reply with no text (the output token limit spent on thinking)
    message: str | None = None  # the vendor's error message, in place of the default one
    times: int | None = None  # None: until cleared
    served: int = field(default=0)

    @classmethod
    def from_json(cls, data: object) -> Fault:
        if not isinstance(data, dict):
            raise FaultError("A fault is a JSON object.")
        known = {
            *("provider", "model", "status", "retry_after", "latency_ms"),
            *("quota", "malformed", "bad_json", "empty", "message", "times"),
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultError(f"Unknown fault fields: {', '.join(unknown)}.")
        provider = data.get("provider")
        if provider not in PROVIDER_NAMES:
            raise FaultError(f"provider must be one of {', '.join(PROVIDER_NAMES)}.")
        status = data.get("status")
        if status is not None and status not in FAULT_STATUSES:
            raise FaultError(f"status must be one of {FAULT_STATUSES}.")
        times = data.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise FaultError("times must be a positive integer or null.")
        latency_ms = data.get("latency_ms", 0)
        if not isinstance(latency_ms, int) or not 0 <= latency_ms <= 600_000:
            raise FaultError("latency_ms must be an integer between 0 and 600000.")
        retry_after = data.get("retry_after")
        if retry_after is not None and (not isinstance(retry_after, int | float) or retry_after < 0):
            raise FaultError("retry_after must be a number of seconds.")
        for name in ("model", "message"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise FaultError(f"{name} must be a string.")
        return cls(
            provider=provider,
            model=data.get("model"),
            status=status,
            retry_after=retry_after,
            latency_ms=latency_ms,
            quota=bool(data.get("quota", False)),
            malformed=bool(data.get("malformed", False)),
            bad_json=bool(data.get("bad_json", False)),
            empty=bool(data.get("empty", False)),
            message=data.get("message"),
            times=times,
        )

    def as_json(self) -> dict:
        return asdict(self)


class EmulatorState:
    """Thread-safe: request threads take faults and count calls, the control API edits both."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._calls: Counter[tuple[str, str]] = Counter()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            # One fault per (provider, model): a new one replaces the old.
            self._faults = [f for f in self._faults if (f.provider, f.model) != (fault.provider, fault.model)]
            self._faults.append(fault)

    def clear_faults(self, provider: str | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if provider is not None and f.provider != provider]

    def faults(self) -> list[dict]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def take_fault(self, provider: str, model: str) -> Fault | None:
        """The fault for this call (a model's own fault before the provider's), counted as served."""
        with self._lock:
            candidates = [f for f in self._faults if f.provider == provider and f.model in (model, None)]
            if not candidates:
                return None
            fault = min(candidates, key=lambda f: f.model is None)
            fault.served += 1
            if fault.times is not None and fault.served >= fault.times:
                self._faults.remove(fault)
            return fault

    def count_call(self, provider: str, model: str) -> None:
        with self._lock:
            self._calls[(provider, model)] += 1

    def calls(self) -> dict:
        with self._lock:
            providers: Counter[str] = Counter()
            models: dict[str, int] = {}
            for (provider, model), count in self._calls.items():
                providers[provider] += count
                models[f"{provider}/{model}"] = count
            return {"total": sum(providers.values()), "providers": dict(providers), "models": models}

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._calls.clear()
