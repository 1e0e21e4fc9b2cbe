from __future__ import annotations

import time
from typing import Any

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
    worker slot while it waits, so keep waits short; a wait that does not fit in the node's
    time left (its timeout_s, or what the execution's deadline leaves) fails at once."""

    output_schema = {"type": "object", "properties": {"waited_s": {"type": "number"}}, "required": ["waited_s"]}

    def run(self, ctx: NodeContext) -> dict[str, Any]:
        seconds = self.config.seconds
        left = ctx.time_left()
        if left is not None and left < seconds:
            # Certain to fail: said at once, not after holding a worker for the whole budget.
            raise NodeTimedOut(
                f"The wait of {seconds:g}s does not fit in the {left:.3g}s the node has left; raise its timeout_s."
            )
        time.sleep(seconds)
        return {"waited_s": seconds}
