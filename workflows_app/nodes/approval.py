"""APPROVAL: a person decides before the run goes on (human in the loop).

The node suspends until its owner decides (POST .../nodes/<id>/decision, or a signed
link: executions_app/approvals/); the decision is written into the node's saved state
and the node is woken to turn it into its output. A decision that does not come before
`decision_timeout_s` is replaced by `default_decision`, made "by" the timeout."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import Field, field_validator

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, Suspend, TemplateObject, TemplateText, node_type

MAX_DECISION_WAIT_S = 30 * 24 * 3600
DECISIONS = ("approve", "reject")


class ApprovalConfig(NodeConfig):
    # Shown to the approver (the inbox, the link's page).
    message: TemplateText
    # The proposed values, rendered at the first run; the approver may correct them.
    data: TemplateObject = None
    # A JSON Schema the decided `data` must match.
    data_schema: dict[str, Any] | None = None
    # "branch": a rejection completes the node with result false (edges with branch
    # "false" are taken); "fail": a rejection fails the node with code `rejected`.
    on_reject: Literal["branch", "fail"] = "branch"
    decision_timeout_s: float | None = Field(default=None, gt=0, le=MAX_DECISION_WAIT_S)
    default_decision: Literal["approve", "reject"] = "reject"
    # Whether the owner may ask for signed approve / reject links for people without an account.
    links: bool = False

    @field_validator("data_schema")
    @classmethod
    def _a_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                Draft202012Validator.check_schema(value)
            except SchemaError as exc:
                raise ValueError(f"data_schema is not a valid JSON Schema: {exc.message}") from None
        return value


class ApprovalRejected(Exception):
    code = "rejected"
    retryable = False


class DecisionTimedOut(Exception):
    code = "node_timeout"
    retryable = False


def data_problems(schema: dict[str, Any] | None, data: Any) -> list[str]:
    """Why `data` does not match the node's data_schema (none when it does, or there is none)."""
    if schema is None:
        return []
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda error: list(error.absolute_path))
    ][:20]


@node_type("APPROVAL")
class Approval(Node[ApprovalConfig]):
    """Waits for a person's decision (approve or reject, with a comment and corrected
    data), holding no worker. The decision is the output; a rejection takes the "false"
    branch or fails the node, as `on_reject` says."""

    suspends = True
    output_schema = {
        "type": "object",
        "properties": {
            "result": {"type": "boolean"},
            "decision": {"enum": list(DECISIONS)},
            "by": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "comment": {"type": ["string", "null"]},
            "data": {"type": ["object", "null"]},
        },
        "required": ["result", "decision", "by", "at", "comment", "data"],
    }

    def run(self, ctx: NodeContext) -> dict[str, Any] | Suspend:
        now = dt.datetime.now(dt.UTC)
        state = ctx.state
        if not state:
            return self._first_run(ctx, now)
        decision = state.get("decision")
        if decision:
            return self._decided(decision)
        expires_at = _when(state.get("expires_at"))
        if expires_at is not None and now >= expires_at:
            default = state.get("default_decision", self.config.default_decision)
            timed_out = {"decision": default, "by": "timeout", "at": now.isoformat(), "comment": None}
            return self._decided({**timed_out, "data": state.get("data")})
        limit = _when(state.get("limit_at"))
        if expires_at is None and limit is not None and now >= limit:
            raise DecisionTimedOut("No decision came before the node's timeout_s ran out.")
        return self._suspend(ctx, state)  # woken early (a stray wake): wait on

    def _first_run(self, ctx: NodeContext, now: dt.datetime) -> Suspend:
        limit = ctx.wait_limit_at
        expires_at = None
        if self.config.decision_timeout_s is not None:
            expires_at = now + dt.timedelta(seconds=self.config.decision_timeout_s)
            if limit is not None and expires_at > limit:
                # Certain to fail: said at once, not after waiting out the node's budget.
                raise DecisionTimedOut(
                    f"decision_timeout_s ({self.config.decision_timeout_s:g}s) does not fit in the "
                    f"{(limit - now).total_seconds():.3g}s the node has left; raise its timeout_s "
                    "(and the workflow's timeout_s for long waits)."
                )
        data = ctx.render(self.config.data) if self.config.data is not None else None
        state = {
            "message": ctx.render_text(self.config.message),
            "data": data,
            "requested_at": now.isoformat(),
            "expires_at": expires_at.isoformat() if expires_at else None,
            "limit_at": limit.isoformat() if limit else None,
            "default_decision": self.config.default_decision,
        }
        return self._suspend(ctx, state)

    @staticmethod
    def _suspend(ctx: NodeContext, state: dict[str, Any]) -> Suspend:
        # Without its own timeout the wait ends with the node's: woken then, it fails.
        wake_at = _when(state.get("expires_at")) or _when(state.get("limit_at"))
        waiting_on = {"kind": "decision", "approval": ctx.node_run_id, "expires_at": state.get("expires_at")}
        return Suspend(waiting_on=waiting_on, wake_at=wake_at, state=state)

    def _decided(self, decision: dict[str, Any]) -> dict[str, Any]:
        approved = decision["decision"] == "approve"
        if not approved and self.config.on_reject == "fail":
            comment = f": {decision['comment']}" if decision.get("comment") else ""
            raise ApprovalRejected(f"Rejected by {decision['by']}{comment}")
        return {
            "result": approved,
            "decision": decision["decision"],
            "by": decision["by"],
            "at": decision["at"],
            "comment": decision.get("comment"),
            "data": decision.get("data"),
        }


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
