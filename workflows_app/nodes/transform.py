from __future__ import annotations

from typing import Any

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, TemplateValue, node_type


class TransformConfig(NodeConfig):
    value: TemplateValue


@node_type("TRANSFORM")
class Transform(Node[TransformConfig]):
    """Builds a value from templates: any JSON whose strings are templates."""

    in_process = True
    output_schema = {"description": "The rendered value: any JSON."}

    def run(self, ctx: NodeContext) -> Any:
        return ctx.render(self.config.value)
