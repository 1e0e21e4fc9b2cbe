from __future__ import annotations

from typing import Any

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, TemplateValue, node_type


class OutputConfig(NodeConfig):
    value: TemplateValue


@node_type("OUTPUT")
class Output(Node[OutputConfig]):
    """A result of the workflow: becomes `outputs.<node id>` of the execution."""

    in_process = True
    output_schema = {"description": "The rendered value: any JSON; becomes outputs.<node id>."}

    def run(self, ctx: NodeContext) -> Any:
        return ctx.render(self.config.value)
