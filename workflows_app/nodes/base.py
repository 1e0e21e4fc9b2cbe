"""What every node type shares: the base class with its typed config, the registry, the
context a node runs with, and the config field types that hold compiled templates.

A node type is one module in this package: a pydantic config model and a class decorated
with `@node_type("NAME")`. The registry imports every module of the package the first
time a type is looked up, so adding a type touches nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from workflows_app.expressions import (
    Expression,
    Template,
    compile_expression,
    expression_context,
    render_value,
    to_text,
)

# The config field types: node modules import them from here, with the rest.
from workflows_app.node_fields import (
    ExpressionText,
    TemplateObject,
    TemplateObjectOrWhole,
    TemplateText,
    TemplateValue,
    expression_problem,
    saved_only,
)
from workflows_app.nodes.ports import NO_PORTS, NodePorts, RecordStore

__all__ = [
    "DeferredWrite",
    "ExpressionText",
    "Node",
    "NodeConfig",
    "NodeContext",
    "Suspend",
    "TemplateObject",
    "TemplateObjectOrWhole",
    "TemplateText",
    "TemplateValue",
    "expression_problem",
    "get_node_class",
    "node_type",
    "node_types",
    "saved_only",
]


class NodeConfig(BaseModel):
    """Base of every config schema: unknown fields are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True)


ConfigT = TypeVar("ConfigT", bound=BaseModel)


# --- the context -----------------------------------------------------------------------


@dataclass
class NodeContext:
    """What a node runs with; built by the engine for one run of one node."""

    inputs: dict[str, Any]
    nodes: dict[str, Any]  # upstream node id -> output (None if skipped)
    execution_id: str
    workflow: dict[str, Any]  # {id, name, version}
    secrets: Mapping[str, str] = field(default_factory=dict)
    deadline: float | None = None  # a time.monotonic() value
    owner_id: Any = None  # the workflow owner's user id (record collections, quotas)
    # Nodes that call out several times per attempt (AI fallback) list each call here as
    # {provider?, model?, error_code?, latency_ms}; the engine numbers them and keeps them.
    attempt_calls: list[dict[str, Any]] = field(default_factory=list)
    # For a type that announces its own start (Node.announces_start): adds this run's
    # `running` event to a Redis pipeline the node is about to send anyway.
    announce_start: Callable[[Any], None] | None = None
    # Bookkeeping the node leaves for after its result is recorded and the next nodes are
    # published (an AI call's breaker and usage counters); the engine runs it then.
    after_record: list[Callable[[], None]] = field(default_factory=list)
    # The collaborators (record store, HTTP client, AI completer): workflows_app/nodes/ports.py.
    ports: NodePorts = NO_PORTS
    # For a node that suspends (returns Suspend): its id, the node run's id, when its first
    # run started (a wait's budget counts from there), the state its last Suspend saved
    # (None on the first run; a decision or the engine may have added to it), and how deep
    # its execution is nested under parents (0 at the top).
    node_id: str = ""
    node_run_id: int | None = None
    started_at: datetime | None = None
    state: Any = None
    depth: int = 0
    # The execution's deadline, and for a type that suspends the latest it may still be
    # waiting (its timeout_s from its first run, within the deadline).
    execution_deadline_at: datetime | None = None
    wait_limit_at: datetime | None = None

    @property
    def records(self) -> RecordStore:
        """The owner's record collections."""
        return self.ports.records_for(self.owner_id)

    @cached_property
    def template_context(self) -> dict[str, Any]:
        return expression_context(
            inputs=self.inputs,
            nodes=self.nodes,
            secrets=self.secrets,
            execution_id=self.execution_id,
            workflow=self.workflow,
        )

    def evaluate(self, expression: Expression | str) -> Any:
        """The value of a compiled expression from the config."""
        if isinstance(expression, str):
            expression = compile_expression(expression)
        return expression.evaluate(self.template_context)

    def render(self, value: Any) -> Any:
        """A JSON value whose strings are templates, rendered (a lone {{ expr }} keeps its type)."""
        return render_value(value, self.template_context)

    def render_text(self, value: Template | str) -> str:
        """A template rendered as text."""
        return to_text(self.render(value))

    def time_left(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


@dataclass(frozen=True)
class Suspend:
    """What run() returns to suspend the node: its run ends `waiting`, holding no worker,
    lease or broker message, until the engine wakes it: at `wake_at` (a timer), or when
    the thing `waiting_on` names happens (a child execution ends, a decision arrives).
    Woken, the node runs again with `state` as ctx.state and returns its output, raises,
    or suspends again. `waiting_on` is what the execution shows: {"kind": "timer" |
    "child" | "decision", ...}; the engine adds the node's id."""

    waiting_on: dict[str, Any]
    wake_at: datetime | None = None
    state: Any = None


@dataclass(frozen=True)
class DeferredWrite:
    """A database effect a node returns instead of performing it: the engine calls apply()
    inside the node run's completion transaction, so the write commits exactly when the
    result does and a redelivered node never writes twice. apply() returns the output."""

    apply: Callable[[], Any]


# --- node types and the registry ----------------------------------------------------------


class Node(Generic[ConfigT]):
    """A node type: a typed config and run(). Subclass as `class X(Node[XConfig])`."""

    type_name: ClassVar[str] = ""
    config_model: ClassVar[type[BaseModel]] = NodeConfig
    queue: ClassVar[str] = "nodes"
    # Attempts when the node names no `retry`: types that call out to flaky services
    # (AI providers) retry by default; the rest run once.
    default_max_attempts: ClassVar[int] = 1
    # Top-level config fields where `secrets.<name>` may appear (docs/architecture.md, Security).
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    # A type that only computes in-process (no I/O, no waiting) finishes within a
    # millisecond: its `running` event goes out with its result, in one Redis round trip.
    in_process: ClassVar[bool] = False
    # A type whose first step is a Redis round trip of its own (the AI node's admission)
    # sends its `running` event in it (NodeContext.announce_start); the engine sends the
    # event with the result when the node never did.
    announces_start: ClassVar[bool] = False
    # A type whose run() may return Suspend: its timeout_s bounds the time from its first
    # run to its end, waiting included, and may reach max_suspend_s; each run's lease is
    # the default node timeout.
    suspends: ClassVar[bool] = False
    # A JSON Schema of what run() returns (docs/concepts/workflows.md); {} means any JSON value.
    output_schema: ClassVar[dict[str, Any]] = {}

    @classmethod
    def prepare_worker(cls, ports: NodePorts) -> None:
        """Called once in a worker that consumes this type's queue, before its first task
        (under prefork, before the pool forks, so every child shares the result): what
        run() would otherwise load on the first node's time and deadline."""

    def __init__(self, node_id: str, config: ConfigT):
        self.id = node_id
        self.config = config

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Node and get_args(base) and isinstance(get_args(base)[0], type):
                cls.config_model = get_args(base)[0]

    @classmethod
    def from_config(cls, node_id: str, config: Mapping[str, Any], *, stored: bool = False) -> Node[Any]:
        """Validates the raw config; raises pydantic's ValidationError. `stored`: a saved
        version's, to run it: checks added since it was saved do not apply (see
        `saved_only`), so it runs as it did and fails, if it must, at run time."""
        validated: Any = cls.config_model.model_validate(config, context={"stored": stored})  # a ConfigT
        return cls(node_id, validated)

    def run(self, ctx: NodeContext) -> Any:
        raise NotImplementedError(f"{self.type_name} has no run()")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


_REGISTRY: dict[str, type[Node[Any]]] = {}
_LOADED = threading.Event()
_LOAD_LOCK = threading.Lock()


NodeClass = TypeVar("NodeClass", bound="type[Node[Any]]")


def node_type(name: str) -> Callable[[NodeClass], NodeClass]:
    """Registers a node class under its type name (e.g. "CONDITION")."""

    def register(cls: NodeClass) -> NodeClass:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise RuntimeError(f"node type {name} is registered twice ({existing.__module__}, {cls.__module__})")
        cls.type_name = name
        _REGISTRY[name] = cls
        return cls

    return register


def _load_node_modules() -> None:
    if _LOADED.is_set():
        return
    with _LOAD_LOCK:
        if _LOADED.is_set():
            return
        package = importlib.import_module(__package__)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{__package__}.{module.name}")
        _LOADED.set()


def node_types() -> dict[str, type[Node[Any]]]:
    """Every registered node type, by name."""
    _load_node_modules()
    return dict(_REGISTRY)


def get_node_class(type_name: str) -> type[Node[Any]]:
    """The class of a node type; KeyError for an unknown name."""
    _load_node_modules()
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise KeyError(type_name) from None
