"""Signed single-use links that decide an APPROVAL for someone without an account.

The owner asks for them (POST .../nodes/<id>/links) and gets the two URLs once: only
their tokens' SHA-256 is stored, and asking again replaces them (the old ones die). A
link expires with the decision's time, is used at most once, and never acts on GET
(mail and chat scanners open links): GET shows a confirmation page, a POST decides."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.api import AppError, Conflict, NotFound
from executions_app.approvals.decisions import (
    WaitingApproval,
    approval_config,
    checked_decision,
    decide,
    ensure_waiting,
)
from executions_app.models import ApprovalLink

TOKEN_PREFIX = "apl_"
TOKEN_PATTERN = re.compile(r"^apl_[A-Za-z0-9_-]{43}$")
LINK_PATH = "/approvals/"
# A link without an expiry of its own (the node waits up to its timeout) lives at most this long.
MAX_LINK_S = 30 * 24 * 3600


class LinkRefused(AppError):
    status_code = 410
    code = "link_refused"
    message = "This link can no longer be used."


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedLinks:
    approve_token: str
    reject_token: str
    expires_at: dt.datetime


def links_issue(found: WaitingApproval) -> IssuedLinks:
    """A new approve link and reject link for a waiting approval; earlier ones stop working."""
    if not found.config.links:
        raise Conflict("This APPROVAL node does not allow links; set links: true in its config.", code="links_disabled")
    now = timezone.now()
    ensure_waiting(found, now)
    expires_at = found.run.wake_at or now + dt.timedelta(seconds=MAX_LINK_S)
    tokens = {decision: TOKEN_PREFIX + secrets.token_urlsafe(32) for decision in ("approve", "reject")}
    with transaction.atomic():
        ApprovalLink.objects.filter(node_run=found.run).delete()
        ApprovalLink.objects.bulk_create(
            ApprovalLink(node_run=found.run, token_hash=hash_token(token), decision=decision, expires_at=expires_at)
            for decision, token in tokens.items()
        )
    return IssuedLinks(tokens["approve"], tokens["reject"], expires_at)


def link_get(token: str) -> tuple[ApprovalLink, WaitingApproval]:
    """The link a token names, usable now: 404 unknown, 410 used or expired."""
    link = None
    if TOKEN_PATTERN.match(token):
        link = (
            ApprovalLink.objects.select_related("node_run__execution__workflow")
            .filter(token_hash=hash_token(token))
            .first()
        )
    if link is None:
        raise NotFound("No such approval link.")
    if link.used_at is not None:
        raise LinkRefused("This link was already used.", code="link_used")
    if link.expires_at <= timezone.now():
        raise LinkRefused("This link has expired.", code="link_expired")
    run = link.node_run
    return link, WaitingApproval(run, run.execution, approval_config(run.execution, run.node_id))


def link_use(token: str, *, comment: str | None) -> dict[str, Any]:
    """Decides with the link, once: the link is marked used in the transaction that wakes
    the node, so of two POSTs at once one decides and the other is refused."""
    link, found = link_get(token)
    parts = checked_decision(found, decision=link.decision, comment=comment, data=None, has_data=False)
    with transaction.atomic():
        now = timezone.now()
        if not ApprovalLink.objects.filter(id=link.id, used_at__isnull=True, expires_at__gt=now).update(used_at=now):
            raise LinkRefused("This link was already used.", code="link_used")
        decision = decide(found, parts, by="link")
        # One decision per approval: its other link dies with it.
        ApprovalLink.objects.filter(node_run_id=link.node_run_id, used_at__isnull=True).update(used_at=now)
    return decision
