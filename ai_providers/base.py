"""What every provider adapter shares: the request and result shapes, the adapter base
class and the per-process SDK client cache."""

from __future__ import annotations

import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from django.conf import settings

TASK_TYPES = (
    "content_generation",
    "quick_decision",
    "sentiment_analysis",
    "math_reasoning",
    "long_context",
    "code_generation",
)
SENTIMENT_LABELS = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class Completion:
    """One AI request. Give `prompt` (one user message) or `messages` (OpenAI-style
    role/content dicts); `system` goes first. `model` is set by the router per provider."""

    prompt: str | None = None
    messages: list[dict[str, str]] | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: Literal["text", "json"] = "text"
    task_type: str = "content_generation"
    model: str = ""

    @property
    def json_mode(self) -> bool:
        """Whether to ask the vendor for JSON mode. Not for sentiment: a chat model answers
        one word there, and the label's JSON is built here (OpenAI and Groq refuse JSON
        mode when no message mentions JSON)."""
        return self.response_format == "json" and self.task_type != "sentiment_analysis"

    def chat_messages(self) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        if self.messages:
            messages.extend({"role": m["role"], "content": str(m.get("content", ""))} for m in self.messages)
        if self.prompt is not None:
            messages.append({"role": "user", "content": self.prompt})
        return messages

    def user_text(self) -> str:
        """The last user message: what a classifier reads."""
        users = [m["content"] for m in self.chat_messages() if m["role"] == "user"]
        return users[-1] if users else ""

    def all_text(self) -> str:
        return "\n".join(m["content"] for m in self.chat_messages())


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class CompletionResult:
    """An answer. `json` is set for response_format "json"; `label`/`score` for sentiment
    (score is None when a chat model answered)."""

    text: str
    provider: str
    model: str
    usage: Usage = field(default_factory=Usage)
    json: Any = None
    label: str | None = None
    score: float | None = None
    latency_ms: int = 0
    emulated: bool = False
    cost_usd: float = 0.0
    fallback_used: bool = False
    cached: bool = False
    has_json: bool = False  # response_format "json": `json` is the answer, even a JSON null

    def as_output(self) -> dict[str, Any]:
        """The AI node's output shape (docs/concepts/workflows.md)."""
        output = {
            "text": self.text,
            "provider": self.provider,
            "model": self.model,
            "usage": asdict(self.usage),
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "fallback_used": self.fallback_used,
            "emulated": self.emulated,
        }
        if self.json is not None or self.has_json:
            output["json"] = self.json
        if self.label is not None:
            output["label"], output["score"] = self.label, self.score
        if self.cached:
            output["cached"] = True
        return output


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    api_key: str = field(repr=False)  # never in a traceback's locals or a debug page
    base_url: str
    emulated: bool
    timeout_s: float
    connect_timeout_s: float
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, name: str) -> ProviderConfig:
        conf = settings.AI_PROVIDERS["PROVIDERS"].get(name, {})
        options = {k: v for k, v in conf.items() if k not in {"api_key", "base_url", "emulated", "quotas"}}
        return cls(
            name=name,
            api_key=conf.get("api_key", ""),
            base_url=conf.get("base_url", ""),
            emulated=bool(conf.get("emulated")),
            timeout_s=settings.AI_PROVIDERS["TIMEOUT_S"],
            connect_timeout_s=settings.AI_PROVIDERS["CONNECT_TIMEOUT_S"],
            options=options,
        )

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.base_url)

    def fingerprint(self) -> str:
        """Identifies the settings a client was built with (never shown anywhere)."""
        parts = (
            self.api_key,
            self.base_url,
            self.timeout_s,
            self.connect_timeout_s,
            repr(sorted(self.options.items())),
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()


class Provider(ABC):
    """An adapter: hides its SDK, answers a Completion or raises one of ai_providers.errors."""

    name: ClassVar[str]

    def __init__(self, config: ProviderConfig):
        self.config = config

    @property
    def configured(self) -> bool:
        return self.config.configured

    def classifies(self, model: str) -> bool:
        """True when this model is a classifier (answers sentiment with label and score)."""
        return False

    def default_model(self) -> str | None:
        return self.config.options.get("default_model")

    @abstractmethod
    def complete(self, request: Completion, *, timeout_s: float | None = None) -> CompletionResult:
        """The raw answer (text and usage); the service adds JSON, sentiment, cost and latency.
        `timeout_s` caps this one call below the configured timeout (the node's time left)."""


# --- SDK clients, built lazily once per process --------------------------------------
ClientT = TypeVar("ClientT")
_clients: dict[tuple[int, str, str], Any] = {}
_clients_lock = threading.Lock()


def cached_client(config: ProviderConfig, build: Callable[[], ClientT]) -> ClientT:
    """The SDK client for these settings in this process. Keyed by pid so a forked worker
    builds its own (sockets are not shared across fork), and by the settings' fingerprint so
    changed settings get a new client."""
    key = (os.getpid(), config.name, config.fingerprint())
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                for stale in [k for k in _clients if k[0] != key[0]]:
                    del _clients[stale]  # inherited from the parent process
                client = _clients[key] = build()
    return client


def reset_clients() -> None:
    """Forgets every SDK client of this process (tests, or after changing settings)."""
    with _clients_lock:
        _clients.clear()
