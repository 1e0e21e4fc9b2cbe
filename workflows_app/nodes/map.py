"""MAP: runs a workflow once per item of a list, each run a child execution (so the items
spread over every worker), at most `concurrency` at a time, and gives the results in the
items' order (docs/concepts/composition.md).

The node holds no worker between its steps: each step reads the running children (one
query), starts new ones up to the concurrency, and suspends until a child ends. What it
keeps between steps (its state) is the items, each item's child id, the indices running
and those that failed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import Field
from pydantic.functional_validators import PlainValidator
from pydantic_core import PydanticCustomError

from workflows_app.expressions import ROOT_NAMES, ExpressionError, compile_value, render_value
from workflows_app.nodes.base import ExpressionText, Node, NodeContext, Suspend, node_type
from workflows_app.nodes.subworkflow import ENDED, CallConfig, CallFailed, check_depth, child_error, past_wait_limit

# An item's inputs may read the item and its position, besides what any node reads.
ITEM_ROOTS = (*ROOT_NAMES, "item", "index")
# Ids per read of the children's results: well within every database's parameter limit.
READ_CHUNK = 500


def _to_item_templates(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid object")
    compiled, problems = compile_value(value, roots=ITEM_ROOTS)
    if problems:
        (first_at, first), *rest = problems
        raise PydanticCustomError(
            "invalid_expression",
            "{message}",
            {"message": first.message, "at": first_at, "more": [(at, exc.message) for at, exc in rest]},
        )
    return compiled


# A JSON object whose strings are templates that may also read `item` and `index`.
ItemTemplateObject = Annotated[Any, PlainValidator(_to_item_templates, json_schema_input_type=dict | None)]


class MapConfig(CallConfig):
    # An expression that gives the list, e.g. "nodes.fetch.output.rows".
    items: ExpressionText
    # Each item's inputs: templates that may read `item` and `index` (its position, from 0).
    inputs: ItemTemplateObject = None
    concurrency: int = Field(default=10, ge=1, le=100)
    # At most this many items (never above SWITCHBOARD_MAP_MAX_ITEMS, 10,000 by default).
    max_items: int | None = Field(default=None, ge=1)
    on_item_error: Literal["fail_fast", "collect"] = "fail_fast"


@node_type("MAP")
class Map(Node[MapConfig]):
    """Runs a workflow once per item of `items` as child executions, at most
    `concurrency` at once, each with `inputs` rendered for its `item` and `index`. The
    output lists the results in the items' order: with on_item_error `fail_fast` each
    child's outputs, and the first failure cancels the rest and fails the node
    (`item_failed`); with `collect`, `{"index", "output"}` or `{"index", "error"}` per
    item. A retry from failure reuses the items that completed."""

    suspends = True
    output_schema = {"type": "array", "description": "One entry per item, in the items' order."}

    def run(self, ctx: NodeContext) -> Any:
        state = ctx.state or self._first_state(ctx)
        children = ctx.ports.children
        running: list[int] = state["running"]
        ids: list[str | None] = state["ids"]
        if running:
            ended = children.results([str(ids[i]) for i in running])
            for index in list(running):
                result = ended.get(ids[index] or "")
                if result is None or result["status"] not in ENDED:
                    continue
                running.remove(index)
                if result["status"] != "completed" and self.config.on_item_error == "fail_fast":
                    self._cancel(ctx, state, "Another item failed.")
                    raise CallFailed("item_failed", f"Item {index}: {child_error(ids[index] or '', result)}")
        self._start_more(ctx, state)
        if not running:
            return self._output(ctx, state)
        if past_wait_limit(ctx):
            self._cancel(ctx, state, "The MAP node ran out of time.")
            raise CallFailed("node_timeout", f"{len(running)} item(s) still ran when the node's timeout_s passed.")
        started = sum(1 for i in ids if i)
        waiting_on = {
            "kind": "child",
            "execution_ids": [str(ids[i]) for i in running],
            "items": len(ids),
            "started": started,
            "running": len(running),
        }
        return Suspend(waiting_on=waiting_on, wake_at=ctx.wait_limit_at, state=state)

    def _first_state(self, ctx: NodeContext) -> dict[str, Any]:
        check_depth(ctx)
        items = ctx.evaluate(self.config.items)
        if not isinstance(items, list):
            kind = "null" if items is None else type(items).__name__
            raise CallFailed("invalid_items", f"items must give a list; it gave {kind}")
        cap = settings.SWITCHBOARD.map_max_items
        limit = min(self.config.max_items or cap, cap)
        if len(items) > limit:
            raise CallFailed("too_many_items", f"items gave {len(items)} items; at most {limit} may be mapped")
        ids: list[str | None] = [None] * len(items)
        # A retry from failure: the items the execution it retries completed are not run again.
        for index, child_id in ctx.ports.children.reusable(ctx.execution_id, ctx.node_id).items():
            if index < len(ids):
                ids[index] = child_id
        return {"items": items, "ids": ids, "next": 0, "running": []}

    def _start_more(self, ctx: NodeContext, state: dict[str, Any]) -> None:
        items, ids, running = state["items"], state["ids"], state["running"]
        while len(running) < self.config.concurrency and state["next"] < len(items):
            index = state["next"]
            state["next"] += 1
            if ids[index] is not None:
                continue  # reused from the execution this one retries
            try:
                ids[index] = self._start(ctx, items[index], index)
            except Exception as exc:
                problem = item_problem(exc)
                if problem is not None and self.config.on_item_error == "collect":
                    state.setdefault("errors", {})[str(index)] = problem
                    continue
                self._cancel(ctx, state, "Another item could not start.")
                if problem is None:
                    raise  # not this item's own (the target gone, the depth): the node's failure
                raise CallFailed("item_failed", f"Item {index}: {problem['message']}") from None
            running.append(index)

    def _start(self, ctx: NodeContext, item: Any, index: int) -> str:
        context = {**ctx.template_context, "item": item, "index": index}
        inputs = render_value(self.config.inputs, context) if self.config.inputs is not None else {}
        return ctx.ports.children.start(
            owner_id=ctx.owner_id,
            parent_execution_id=ctx.execution_id,
            parent_node_id=ctx.node_id,
            index=index,
            depth=ctx.depth,
            deadline_at=ctx.execution_deadline_at,
            workflow_id=self.config.workflow_id,
            version=self.config.version,
            inputs=inputs,
        )

    def _cancel(self, ctx: NodeContext, state: dict[str, Any], reason: str) -> None:
        running = [str(state["ids"][i]) for i in state["running"]]
        if running:
            ctx.ports.children.cancel(running, reason)

    def _output(self, ctx: NodeContext, state: dict[str, Any]) -> list[Any]:
        ids: list[str | None] = state["ids"]
        started = [child_id for child_id in ids if child_id]
        results: dict[str, dict[str, Any]] = {}
        for start in range(0, len(started), READ_CHUNK):
            results.update(ctx.ports.children.results(started[start : start + READ_CHUNK]))
        collect = self.config.on_item_error == "collect"
        errors: dict[str, Any] = state.get("errors", {})
        output: list[Any] = []
        for index, child_id in enumerate(ids):
            if child_id is None:  # collect: the item could not start
                output.append({"index": index, "error": errors.get(str(index))})
                continue
            result = results.get(child_id) or {"status": "canceled", "outputs": None, "error": None}
            if result["status"] == "completed":
                output.append({"index": index, "output": result["outputs"]} if collect else result["outputs"])
            elif collect:
                error = {"code": "child_failed", "message": child_error(child_id, result), "execution_id": child_id}
                output.append({"index": index, "error": error})
            else:  # only a child deleted meanwhile gets here
                raise CallFailed("item_failed", f"Item {index}: {child_error(child_id, result)}")
        return output


def item_problem(exc: Exception) -> dict[str, str] | None:
    """The error of an item that could not start for a reason of its own (its inputs did
    not render, or do not fit the workflow's INPUT fields); None for any other reason."""
    if isinstance(exc, ExpressionError):
        return {"code": "expression_error", "message": str(exc)}
    if getattr(exc, "code", None) == "invalid_child_inputs":
        return {"code": "invalid_child_inputs", "message": str(getattr(exc, "message", exc))}
    return None
