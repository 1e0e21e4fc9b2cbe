from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from pydantic import Field, model_validator

from workflows_app.expression_dates import parse_time
from workflows_app.nodes.base import Node, NodeConfig, NodeContext, Suspend, TemplateText, node_type

MAX_WAIT_S = 30 * 24 * 3600


class WaitConfig(NodeConfig):
    # One of the two: a number of seconds, or a template giving an ISO 8601 time.
    seconds: float | None = Field(default=None, gt=0, le=MAX_WAIT_S)
    until: TemplateText | None = None

    @model_validator(mode="after")
    def _one_of(self) -> WaitConfig:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give either seconds or until")
        return self


class NodeTimedOut(Exception):
    code = "node_timeout"
    retryable = False


class BadWaitTime(Exception):
    code = "invalid_wait"
    retryable = False


@node_type("WAIT")
class Wait(Node[WaitConfig]):
    """Pauses the branch until a time: `seconds` from now or `until` a moment. A wait of
    a few seconds (SWITCHBOARD_WAIT_INLINE_MAX_S) sleeps in the worker; a longer one
    suspends, holding no worker, and is woken by the timer loop, after a restart too.
    A wait that does not fit in the node's time left (its timeout_s, or what the
    execution's deadline leaves) fails at once."""

    suspends = True
    output_schema = {
        "type": "object",
        "properties": {"waited_s": {"type": "number"}, "until": {"type": "string", "format": "date-time"}},
        "required": ["waited_s", "until"],
    }

    def run(self, ctx: NodeContext) -> dict[str, Any] | Suspend:
        now = dt.datetime.now(dt.UTC)
        if ctx.state:  # woken: the wait is over once its time has come
            until = dt.datetime.fromisoformat(ctx.state["until"])
            if until > now:
                return self._suspend(until, ctx.state)
            return self._output(dt.datetime.fromisoformat(ctx.state["since"]), until)
        until = self._until(ctx, now)
        limit = ctx.wait_limit_at
        if limit is not None and until > limit:
            # Certain to fail: said at once, not after holding the wait for its whole budget.
            raise NodeTimedOut(
                f"The wait until {until.isoformat()} does not fit in the {(limit - now).total_seconds():.3g}s "
                "the node has left; raise its timeout_s (and the workflow's timeout_s for long waits)."
            )
        seconds = (until - now).total_seconds()
        if seconds <= settings.SWITCHBOARD.wait_inline_max_s:
            time.sleep(max(0.0, seconds))
            return self._output(now, until)
        return self._suspend(until, {"until": until.isoformat(), "since": now.isoformat()})

    def _until(self, ctx: NodeContext, now: dt.datetime) -> dt.datetime:
        if self.config.seconds is not None:
            return now + dt.timedelta(seconds=self.config.seconds)
        rendered = ctx.render(self.config.until)
        try:
            until = parse_time(rendered, "until")
        except Exception as exc:
            raise BadWaitTime(str(exc)) from None
        if until - now > dt.timedelta(seconds=MAX_WAIT_S):
            raise BadWaitTime(f"until is {until.isoformat()}, more than 30 days away")
        return max(until, now)

    @staticmethod
    def _suspend(until: dt.datetime, state: dict[str, Any]) -> Suspend:
        return Suspend(waiting_on={"kind": "timer", "until": until.isoformat()}, wake_at=until, state=state)

    @staticmethod
    def _output(since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
        return {"waited_s": round(max(0.0, (until - since).total_seconds()), 3), "until": until.isoformat()}
