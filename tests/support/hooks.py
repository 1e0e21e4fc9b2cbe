"""Webhook helpers for tests: the signature a sender computes (written from the documented
scheme, not imported from the code it checks), a hook on a fresh workflow, and a POST
to it as a sender makes one."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from django.test import Client

from executions_app.models import Execution
from tests.support.definitions import echo_definition
from tests.support.factories import WorkflowFactory
from triggers_app.models import WebhookTrigger
from triggers_app.webhooks.services import webhook_create


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`X-Switchboard-Signature`: t=<unix seconds>,v1=HMAC-SHA256(secret, "<t>." + body)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Hook:
    trigger: WebhookTrigger
    token: str
    secret: str | None
    sent: int = 0
    first_second: int = 0

    @property
    def url(self) -> str:
        return f"/hooks/{self.token}"

    def executions(self) -> list[Execution]:
        return list(Execution.objects.filter(trigger=f"webhook:{self.trigger.id}").order_by("created_at"))

    def post(
        self,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        signed: bool = True,
        timestamp: int | None = None,
        query: str = "",
        client: Client | None = None,
        **headers: str,
    ) -> Any:
        """POSTs `body` as JSON (or `raw` bytes), signed with the hook's secret unless
        `signed` is False; `headers` by their HTTP names (Idempotency-Key=...). Each post
        is signed with a timestamp of its own (a second earlier than the last), as a
        sender signs each attempt anew: the same body twice in one second would be the
        same signature, a replay."""
        self.sent += 1
        if timestamp is None:
            # Counted down from the first post's second, not from each post's own: two
            # posts a second boundary apart would otherwise get the same timestamp.
            self.first_second = self.first_second or int(time.time())
            timestamp = self.first_second - self.sent
        data = raw if raw is not None else json.dumps({} if body is None else body).encode()
        sent = dict(headers)
        if signed and self.secret:
            sent["X-Switchboard-Signature"] = sign(self.secret, data, timestamp)
        return (client or Client()).post(
            self.url + (f"?{query}" if query else ""), data=data, content_type=content_type, headers=sent
        )


def make_hook(user: Any, definition: dict | None = None, **values: Any) -> Hook:
    """A hook (signed unless require_signature=False) on a new workflow of `user`'s;
    the workflow is the echo one (input `text`, outputs {"result": {"echo": text}})
    unless given."""
    workflow = WorkflowFactory(owner=user, definition=definition or echo_definition())
    trigger, token, secret = webhook_create(user=user, workflow_id=workflow.id, name="hook", **values)
    return Hook(trigger, token, secret)
