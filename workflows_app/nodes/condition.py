from __future__ import annotations

from typing import Any

from workflows_app.nodes.base import ExpressionText, Node, NodeConfig, NodeContext, node_type


class ConditionConfig(NodeConfig):
    expression: ExpressionText  # parsed and checked when the workflow is saved


@node_type("CONDITION")
class Condition(Node[ConditionConfig]):
    """Chooses the branch: outgoing edges carry branch "true" or "false"."""

    in_process = True
    output_schema = {"type": "object", "properties": {"result": {"type": "boolean"}}, "required": ["result"]}

    def run(self, ctx: NodeContext) -> dict[str, Any]:
        return {"result": bool(ctx.evaluate(self.config.expression))}
