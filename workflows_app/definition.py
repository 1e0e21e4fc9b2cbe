"""Validation of a workflow definition into the frozen Graph the engine runs (docs/concepts/workflows.md).

Every problem is reported at once, each as `{node_id, path, code, message}` with a JSON
path such as `nodes[2].config.prompt`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ValidationError

from core.json_text import NUL_MESSAGE, nul_paths
from workflows_app.definition_limits import check_definition_limits
from workflows_app.definition_timeouts import execution_timeout, node_timeout
from workflows_app.expressions import Expression, Template
from workflows_app.graph import EdgeSpec, Graph, NodeSpec, RetryPolicy
from workflows_app.inputs import validate_inputs
from workflows_app.node_options import NodeOptions, RetryOptions
from workflows_app.nodes.base import get_node_class, node_types
from workflows_app.problems import DefinitionInvalid, Problems

__all__ = ["DefinitionInvalid", "EdgeSpec", "Graph", "NodeSpec", "RetryPolicy", "parse_definition", "validate_inputs"]

NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = ("nodes", "edges", "timeout_s")
_NODE_KEYS = ("id", "type", "config", "retry", "timeout_s", "on_error")
_EDGE_KEYS = ("source", "target", "branch")
# Types whose edges may carry a branch, taken by their output's `result` (an APPROVAL's
# unbranched edges are taken whatever the decision).
_BRANCHING = ("CONDITION", "APPROVAL")


def _list_of(definition: dict, key: str, problems: Problems, *, required: bool) -> list:
    value = definition.get(key, None if required else [])
    if not isinstance(value, list):
        problems.add(None, (key,), "invalid_type", f"{key} must be a list")
        return []
    return value


def compiled_parts(value: Any, loc: tuple) -> Iterator[tuple[tuple, Template | Expression]]:
    """Every compiled template or expression inside a config, with its location."""
    if isinstance(value, Template | Expression):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from compiled_parts(getattr(value, name), (*loc, info.alias or name))
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from compiled_parts(child, (*loc, key))
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            yield from compiled_parts(child, (*loc, index))


class _Parser:
    def __init__(self, definition: dict, *, stored: bool = False):
        self.definition = definition
        self.stored = stored
        self.problems = Problems()
        self.index: dict[str, int] = {}  # node id -> position of its first definition
        self.types: dict[str, str] = {}
        self.specs: dict[str, NodeSpec] = {}
        self.edges: list[tuple[int, EdgeSpec]] = []
        self.timeout_s: float = settings.SWITCHBOARD.execution_timeout_s

    def parse(self) -> Graph:
        problems = self.problems
        for key in self.definition:
            if key not in _TOP_KEYS:
                message = f"unknown field {key!r}; a definition has nodes, edges and timeout_s"
                problems.add(None, (key,), "unknown_field", message)
        self.timeout_s = execution_timeout(self.definition, self.problems)
        self.nul_characters()
        for position, raw in enumerate(_list_of(self.definition, "nodes", problems, required=True)):
            self.node(position, raw)
        for position, raw in enumerate(_list_of(self.definition, "edges", problems, required=False)):
            self.edge(position, raw)
        self.counts()
        order = self.topological_order()
        if order is not None:
            self.parentless()
            self.references(order)
        if problems:
            raise DefinitionInvalid(list(problems))
        return Graph(
            nodes={node_id: self.specs[node_id] for node_id in self.index},
            edges=tuple(edge for _, edge in self.edges),
            input_node_id=next(node_id for node_id, kind in self.types.items() if kind == "INPUT"),
            output_node_ids=tuple(node_id for node_id, kind in self.types.items() if kind == "OUTPUT"),
            timeout_s=self.definition.get("timeout_s"),
        )

    def nul_characters(self) -> None:
        nodes = self.definition.get("nodes")
        for loc in nul_paths(self.definition):
            raw = nodes[loc[1]] if loc[0] == "nodes" and len(loc) > 1 and isinstance(nodes, list) else None
            node_id = raw.get("id") if isinstance(raw, dict) else None
            valid_id = node_id if isinstance(node_id, str) and NODE_ID.fullmatch(node_id) else None
            self.problems.add(valid_id, loc, "invalid_character", NUL_MESSAGE)

    def node(self, position: int, raw: Any) -> None:
        loc, problems = ("nodes", position), self.problems
        if not isinstance(raw, dict):
            problems.add(None, loc, "invalid_type", "a node must be an object with id, type and config")
            return
        node_id, type_name = raw.get("id"), raw.get("type")
        for key in raw:
            if key not in _NODE_KEYS:
                problems.add(node_id, (*loc, key), "unknown_field", f"unknown field {key!r}; a node has {_NODE_KEYS}")
        if not isinstance(node_id, str) or not NODE_ID.fullmatch(node_id):
            problems.add(node_id, (*loc, "id"), "invalid_id", f"node ids match {NODE_ID.pattern}; got {node_id!r}")
            node_id = None
        elif node_id in self.index:
            first = self.index[node_id]
            problems.add(node_id, (*loc, "id"), "duplicate_id", f"the id {node_id!r} is already used by nodes[{first}]")
            node_id = None
        else:
            self.index[node_id] = position
            self.types[node_id] = type_name if isinstance(type_name, str) else ""
        try:
            node_class = get_node_class(type_name) if isinstance(type_name, str) else None
        except KeyError:
            node_class = None
        if node_class is None:
            known = ", ".join(sorted(node_types()))
            if "type" not in raw:
                problems.add(node_id, (*loc, "type"), "missing_field", f"a node needs a type; types are: {known}")
            else:
                message = f"unknown node type {type_name!r}; types are: {known}"
                problems.add(node_id, (*loc, "type"), "unknown_type", message)
        config = raw.get("config", {})
        node = None
        if not isinstance(config, dict):
            problems.add(node_id, (*loc, "config"), "invalid_config", "config must be an object")
        elif node_class is not None:
            try:
                node = node_class.from_config(node_id or "", config, stored=self.stored)
            except ValidationError as exc:
                problems.add_pydantic(node_id, (*loc, "config"), exc)
        try:
            options = NodeOptions.model_validate(
                {key: raw[key] for key in ("retry", "timeout_s", "on_error") if key in raw}
            )
        except ValidationError as exc:
            problems.add_pydantic(node_id, loc, exc)
            return
        node_timeout(self.problems, self.timeout_s, node_id, loc, node_class, options.timeout_s)
        if node_id and node is not None and isinstance(type_name, str):  # a node implies a known type
            retry = options.retry or RetryOptions(max_attempts=node.default_max_attempts)
            self.specs[node_id] = NodeSpec(
                id=node_id,
                type=type_name,
                node=node,
                retry=RetryPolicy(retry.max_attempts, retry.backoff_s, retry.max_backoff_s),
                timeout_s=options.timeout_s,
                on_error=options.on_error,
                secret_refs=frozenset().union(*(part.secret_refs for _, part in compiled_parts(node.config, ()))),
            )

    def edge(self, position: int, raw: Any) -> None:
        loc, problems = ("edges", position), self.problems
        if not isinstance(raw, dict):
            problems.add(None, loc, "invalid_type", "an edge must be an object with source and target")
            return
        for key in raw:
            if key not in _EDGE_KEYS:
                problems.add(None, (*loc, key), "unknown_field", f"unknown field {key!r}; an edge has {_EDGE_KEYS}")
        ends = {}
        for end in ("source", "target"):
            value = raw.get(end)
            if not isinstance(value, str) or value not in self.index:
                message = f"the edge's {end} {value!r} is not a node of this workflow"
                problems.add(value, (*loc, end), "unknown_node", message)
            else:
                ends[end] = value
        branch = raw.get("branch")
        if isinstance(branch, bool):
            branch = "true" if branch else "false"
        if branch is not None and branch not in ("true", "false"):
            problems.add(ends.get("source"), (*loc, "branch"), "invalid_branch", 'branch is "true" or "false"')
            return
        if len(ends) < 2:
            return
        source, target = ends["source"], ends["target"]
        if self.types[source] == "CONDITION" and branch is None:
            problems.add(source, loc, "missing_branch", 'an edge from a CONDITION needs branch "true" or "false"')
        elif self.types[source] not in _BRANCHING and branch is not None:
            message = "only edges from a CONDITION or an APPROVAL carry a branch"
            problems.add(source, (*loc, "branch"), "unexpected_branch", message)
        if self.types[target] == "INPUT":
            problems.add(target, (*loc, "target"), "input_has_parent", "no edge may lead to the INPUT node")
        edge = EdgeSpec(source, target, branch)
        if any(existing == edge for _, existing in self.edges):
            problems.add(source, loc, "duplicate_edge", f"the edge {source} -> {target} is listed twice")
            return
        self.edges.append((position, edge))

    def counts(self) -> None:
        inputs = [node_id for node_id, kind in self.types.items() if kind == "INPUT"]
        if not inputs:
            self.problems.add(None, ("nodes",), "missing_input", "a workflow needs exactly one INPUT node")
        for node_id in inputs[1:]:
            message = f"a workflow has exactly one INPUT node; {inputs[0]!r} is already one"
            self.problems.add(node_id, ("nodes", self.index[node_id], "type"), "multiple_inputs", message)
        if "OUTPUT" not in self.types.values():
            self.problems.add(None, ("nodes",), "missing_output", "a workflow needs at least one OUTPUT node")

    def topological_order(self) -> list[str] | None:
        """Kahn's algorithm; on a cycle reports it and returns None."""
        pending = dict.fromkeys(self.index, 0)
        children: dict[str, list[str]] = {node_id: [] for node_id in self.index}
        for _, edge in self.edges:
            pending[edge.target] += 1
            children[edge.source].append(edge.target)
        ready = [node_id for node_id, count in pending.items() if count == 0]
        order: list[str] = []
        while ready:
            node_id = ready.pop()
            order.append(node_id)
            for child in children[node_id]:
                pending[child] -= 1
                if pending[child] == 0:
                    ready.append(child)
        if len(order) == len(self.index):
            return order
        cycle = self._find_cycle({node_id for node_id, count in pending.items() if count > 0})
        first_edge = next(
            position for position, edge in self.edges if edge.source == cycle[0] and edge.target == cycle[1]
        )
        self.problems.add(cycle[0], ("edges", first_edge), "cycle", "the graph has a cycle: " + " -> ".join(cycle))
        return None

    def _find_cycle(self, stuck: set[str]) -> list[str]:
        # Every stuck node has a stuck parent: walking parents must come back to a node.
        parent_of = {
            edge.target: edge.source for _, edge in self.edges if edge.source in stuck and edge.target in stuck
        }
        path: list[str] = []
        seen: dict[str, int] = {}
        node_id = min(stuck, key=self.index.__getitem__)
        while node_id not in seen:
            seen[node_id] = len(path)
            path.append(node_id)
            node_id = parent_of[node_id]
        cycle = path[seen[node_id] :]
        cycle.reverse()  # parents were followed: reverse to read along the edges
        first = cycle.index(min(cycle, key=self.index.__getitem__))
        cycle = cycle[first:] + cycle[:first]
        return [*cycle, cycle[0]]

    def parentless(self) -> None:
        targets = {edge.target for _, edge in self.edges}
        for node_id, position in self.index.items():
            if self.types[node_id] != "INPUT" and node_id not in targets:
                message = "no edge leads to this node; every node except the INPUT needs a parent"
                self.problems.add(node_id, ("nodes", position), "unreachable", message)

    def input_fields(self) -> frozenset[str] | None:
        """The INPUT node's field names; None when they cannot be told (no valid INPUT,
        or a stored version, where a name refused since it was saved must still run)."""
        inputs = [spec for spec in self.specs.values() if spec.type == "INPUT"]
        if self.stored or len(inputs) != 1:
            return None
        return frozenset(inputs[0].node.config.fields)

    def references(self, order: list[str]) -> None:
        ancestors: dict[str, set[str]] = {}
        parents: dict[str, list[str]] = {node_id: [] for node_id in self.index}
        for _, edge in self.edges:
            parents[edge.target].append(edge.source)
        for node_id in order:
            ancestors[node_id] = set().union(*({parent, *ancestors[parent]} for parent in parents[node_id]))
        fields = self.input_fields()
        for node_id, spec in self.specs.items():
            loc = ("nodes", self.index[node_id], "config")
            for at, compiled in compiled_parts(spec.node.config, loc):
                if fields is not None:
                    for ref in sorted(compiled.input_refs - fields):
                        known = ", ".join(sorted(fields)) or "none"
                        message = f"inputs.{ref} is not a field of the INPUT node (its fields: {known})"
                        self.problems.add(node_id, at, "unknown_input", message)
                for ref in sorted(compiled.node_refs):
                    if ref not in self.index:
                        message = f"nodes.{ref} is not a node of this workflow"
                        self.problems.add(node_id, at, "unknown_reference", message)
                    elif ref not in ancestors[node_id]:
                        message = (
                            f"nodes.{ref} is not upstream of {node_id}: a template reads only nodes that run before it"
                        )
                        self.problems.add(node_id, at, "not_upstream", message)
                if compiled.secret_refs and at[3] not in spec.node.secret_fields:
                    message = "secrets.<name> may appear only in HTTP_REQUEST headers, query, json and body"
                    self.problems.add(node_id, at, "secret_not_allowed", message)


def parse_definition(definition: Any, *, stored: bool = False) -> Graph:
    """The frozen Graph of a definition; raises DefinitionInvalid listing every problem.
    `stored`: a saved version, parsed to run it. Checks added since it was saved (the
    template count, input names) do not make it unrunnable."""
    check_definition_limits(definition, count_templates=not stored)
    return _Parser(definition, stored=stored).parse()
