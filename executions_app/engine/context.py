"""The NodeContext a node runs with: inputs, upstream outputs, execution and workflow."""

from __future__ import annotations

from typing import Any

from executions_app.credentials import secrets_for
from executions_app.engine import sql
from workflows_app.nodes.base import NodeContext

# Versions are immutable, so a node's ancestors are computed once per process.
_ANCESTORS: dict[tuple[Any, str], tuple[str, ...]] = {}


def ancestors(graph: Any, version_id: Any, node_id: str) -> tuple[str, ...]:
    key = (version_id, node_id)
    found = _ANCESTORS.get(key)
    if found is None:
        seen: set[str] = set()
        stack = [edge.source for edge in graph.parents(node_id)]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(edge.source for edge in graph.parents(current))
        found = tuple(sorted(seen))
        if len(_ANCESTORS) > 50_000:
            _ANCESTORS.clear()
        _ANCESTORS[key] = found
    return found


def build_context(row: dict, graph: Any, *, deadline: float) -> NodeContext:
    version_id = row["execution__version_id"]
    secret_refs = graph.nodes[row["node_id"]].secret_refs
    # Only what the node references, decrypted for this run; a missing one is reported by the node.
    secrets = secrets_for(owner_id=row["execution__owner_id"], names=secret_refs) if secret_refs else {}
    return NodeContext(
        inputs=row["execution__inputs"],
        nodes=sql.upstream_outputs(row["execution_id"], ancestors(graph, version_id, row["node_id"])),
        execution_id=str(row["execution_id"]),
        workflow={
            "id": str(row["execution__workflow_id"]),
            "name": row["execution__workflow__name"],
            "version": row["execution__version__number"],
        },
        deadline=deadline,
        owner_id=row["execution__owner_id"],
        secrets=secrets,
    )
