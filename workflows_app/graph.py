"""The parsed, frozen form of a definition that the engine runs (built by definition.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workflows_app.nodes.base import Node


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 1
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0


@dataclass(frozen=True)
class NodeSpec:
    id: str
    type: str
    node: Node  # the node-type instance with its typed config
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None
    on_error: str = "fail"  # "fail" | "continue"
    secret_refs: frozenset[str] = frozenset()  # the `secrets.<name>` the config references


@dataclass(frozen=True)
class EdgeSpec:
    source: str
    target: str
    branch: str | None = None


@dataclass(frozen=True, eq=False)
class Graph:
    nodes: dict[str, NodeSpec]  # in definition order
    edges: tuple[EdgeSpec, ...]
    input_node_id: str
    output_node_ids: tuple[str, ...]
    # The execution's time limit in seconds, when the definition sets one (waits of days).
    timeout_s: float | None = None
    _parents: dict[str, tuple[EdgeSpec, ...]] = field(init=False, repr=False)
    _children: dict[str, tuple[EdgeSpec, ...]] = field(init=False, repr=False)
    _straight: dict[str, tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parents: dict[str, list[EdgeSpec]] = {node_id: [] for node_id in self.nodes}
        children: dict[str, list[EdgeSpec]] = {node_id: [] for node_id in self.nodes}
        for edge in self.edges:
            parents[edge.target].append(edge)
            children[edge.source].append(edge)
        object.__setattr__(self, "_parents", {key: tuple(value) for key, value in parents.items()})
        object.__setattr__(self, "_children", {key: tuple(value) for key, value in children.items()})
        straight = {
            node_id: tuple(edge.target for edge in edges)
            for node_id, edges in children.items()
            if edges and all(edge.branch is None for edge in edges)
        }
        object.__setattr__(self, "_straight", straight)

    def parents(self, node_id: str) -> tuple[EdgeSpec, ...]:
        return self._parents[node_id]

    def children(self, node_id: str) -> tuple[EdgeSpec, ...]:
        return self._children[node_id]

    def straight_children(self, node_id: str) -> tuple[str, ...]:
        """The node's children when every edge out of it is unbranched: completing the node
        takes each edge, so a child it brings to zero unresolved parents is ready (never
        skipped), and the execution cannot end with it while they wait. Empty for any other
        node (a CONDITION's branches, no children)."""
        return self._straight.get(node_id, ())

    def roots(self) -> tuple[str, ...]:
        """Nodes without parents: the INPUT (validation allows no other)."""
        return tuple(node_id for node_id, edges in self._parents.items() if not edges)
