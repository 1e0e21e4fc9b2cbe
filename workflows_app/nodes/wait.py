from __future__ import annotations

import time

from pydantic import Field

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, node_type


class WaitConfig(NodeConfig):
    seconds: float = Field(gt=0, le=3600)


class NodeTimedOut(Exception):
    code = "node_timeout"
    retryable = False


@node_type("WAIT")
class Wait(Node[WaitConfig]):
    """Pauses the branch (pacing calls to a rate-limited API, a grace period). It holds a
    worker slot while it waits, so keep waits short; a wait past the node's deadline fails."""

    output_schema = {"type": "object", "properties": {"waited_s": {"type": "number"}}, "required": ["waited_s"]}

    def run(self, ctx: NodeContext) -> dict:
        seconds = self.config.seconds
        left = ctx.time_left()
        if left is not None and left < seconds:
            time.sleep(left)
            raise NodeTimedOut(f"The wait of {seconds:g}s passed the node's time limit of {left:.3g}s.")
        time.sleep(seconds)
        return {"waited_s": seconds}
