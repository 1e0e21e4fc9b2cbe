"""SUBWORKFLOW: runs another workflow of the same owner as a child execution and gives
its outputs (docs/concepts/composition.md). The node suspends while the child runs,
holding no worker; the child's end wakes it. MAP (map.py) shares the call's config."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import Field, field_validator

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, Suspend, TemplateObject, node_type

# What a child execution's status is once it has ended.
ENDED = ("completed", "failed", "canceled")


class CallConfig(NodeConfig):
    """The workflow a node calls: one of the owner's, by id; `version` a number to pin
    one, or "current": the version current when the child starts."""

    workflow_id: str
    version: Annotated[int, Field(ge=1)] | Literal["current"] = "current"

    @field_validator("workflow_id")
    @classmethod
    def _workflow_id(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError("workflow_id is the id (a UUID) of one of your workflows") from None


class SubworkflowConfig(CallConfig):
    # The child's inputs: an object whose strings are templates, checked against its INPUT fields.
    inputs: TemplateObject = None


class CallFailed(Exception):
    """A call that cannot go on; `code` is what the node's error shows."""

    retryable = False

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def check_depth(ctx: NodeContext) -> None:
    """Calls nest at most max_call_depth deep (a cycle the save-time check could not see,
    such as one through a pinned old version, ends here)."""
    limit = settings.SWITCHBOARD.max_call_depth
    if ctx.depth + 1 > limit:
        raise CallFailed(
            "depth_exceeded", f"Calls nest at most {limit} deep; this node runs at depth {ctx.depth} already."
        )


def child_error(child_id: str, result: dict[str, Any]) -> str:
    """Names the child execution and what ended it."""
    error = result.get("error") or {}
    where = f" at node {error['node_id']}" if error.get("node_id") else ""
    reason = f": {error.get('code')}: {error.get('message')}" if error else ""
    return f"The child execution {child_id} {result.get('status')}{where}{reason}"


def past_wait_limit(ctx: NodeContext) -> bool:
    return ctx.wait_limit_at is not None and dt.datetime.now(dt.UTC) >= ctx.wait_limit_at


@node_type("SUBWORKFLOW")
class Subworkflow(Node[SubworkflowConfig]):
    """Runs another of your workflows as a child execution (its trigger `parent:<id>`)
    with the rendered `inputs`, and gives the child's outputs (an object, keyed by its
    OUTPUT nodes). The node waits without holding a worker. A child that fails or is
    canceled fails the node (`child_failed`; on_error applies); canceling this execution
    cancels the child. Its timeout_s (default: the node timeout) bounds the wait."""

    suspends = True
    output_schema = {"type": "object", "description": "The child execution's outputs, by OUTPUT node id."}

    def run(self, ctx: NodeContext) -> Any:
        children = ctx.ports.children
        state = ctx.state
        if not state:
            check_depth(ctx)
            child_id = children.start(
                owner_id=ctx.owner_id,
                parent_execution_id=ctx.execution_id,
                parent_node_id=ctx.node_id,
                index=0,
                depth=ctx.depth,
                deadline_at=ctx.execution_deadline_at,
                workflow_id=self.config.workflow_id,
                version=self.config.version,
                inputs=ctx.render(self.config.inputs) or {},
            )
            return self._suspend(ctx, {"child": child_id})
        child_id = state["child"]
        result = children.results([child_id]).get(child_id) or {"status": "canceled", "error": None}
        if result["status"] == "completed":
            return result["outputs"] or {}
        if result["status"] in ENDED:
            raise CallFailed("child_failed", child_error(child_id, result))
        if past_wait_limit(ctx):
            children.cancel([child_id], "The calling node ran out of time.")
            raise CallFailed("node_timeout", f"The child execution {child_id} did not end within the node's timeout_s.")
        return self._suspend(ctx, state)

    @staticmethod
    def _suspend(ctx: NodeContext, state: dict[str, Any]) -> Suspend:
        # The child's end wakes the node; wake_at is its time limit.
        return Suspend(
            waiting_on={"kind": "child", "execution_id": state["child"]}, wake_at=ctx.wait_limit_at, state=state
        )
