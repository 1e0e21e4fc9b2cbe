"""The collaborators a node reaches the world through, passed in with its context.

A node type imports no other app's live services: the engine builds one `NodePorts` per
process (executions_app/engine/ports.py) and every NodeContext carries it, so a node type
runs alone in a unit test with fakes of these ports. Types and pure checks of lower
layers (an error class, a filter parser) are imported as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # types only: the engine passes the real objects in
    from ai_providers.base import Completion, CompletionResult
    from outbound.client import GuardedResponse


class RecordStore(Protocol):
    """One owner's record collections (the DATABASE node's store). Reads answer now;
    writes are called by the engine inside the node run's completion transaction."""

    def find(
        self, *, collection: str, filter: Any, sort: Any = None, limit: int | None = None
    ) -> list[dict[str, Any]]: ...
    def find_one(self, *, collection: str, filter: Any, sort: Any = None) -> dict[str, Any] | None: ...
    def count(self, *, collection: str, filter: Any) -> int: ...
    def insert(self, *, collection: str, document: dict[str, Any]) -> int: ...
    def update(self, *, collection: str, filter: Any, update: Any) -> tuple[int, int]: ...
    def delete(self, *, collection: str, filter: Any) -> int: ...

    # Checks of rendered values, before a write is deferred: raise RecordQueryError.
    def check_document(self, document: Any) -> dict[str, Any]: ...
    def check_filter(self, filter: Any) -> None: ...
    def check_update(self, update: Any) -> None: ...


class HttpClient(Protocol):
    """The guarded outbound client: every user-supplied URL goes through it."""

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
        timeout_s: float | None = None,
        deadline: float | None = None,
        max_bytes: int | None = None,
        origin_bound_headers: Iterable[str] = (),
        origin_bound_params: Iterable[str] = (),
        origin_bound_body: bool = False,
    ) -> GuardedResponse: ...


class AiCompleter(Protocol):
    """Answers a completion with the provider the router picks, falling back along the
    task type's chain (ai_providers.services.complete_with_fallback)."""

    def prepare(self) -> None:
        """Loads the provider SDKs now, not on the first node's time (a worker on `ai`)."""
        ...

    def complete(
        self,
        *,
        task_type: str,
        request: Completion,
        chain_override: list[str] | None,
        user_id: Any,
        attempt_log: list[dict[str, Any]],
        deadline: float | None,
        announce: Callable[[Any], None] | None,
        deferred: list[Callable[[], None]] | None,
    ) -> CompletionResult: ...


class ChildRunner(Protocol):
    """Child executions of the running one (SUBWORKFLOW, MAP): started, read and canceled
    for the node that owns them. Every call binds to the parent execution the engine
    names, so a node reaches only its own children and its owner's workflows."""

    def start(
        self,
        *,
        owner_id: Any,
        parent_execution_id: str,
        parent_node_id: str,
        index: int,
        depth: int,
        deadline_at: datetime | None,
        workflow_id: str,
        version: int | str,
        inputs: dict[str, Any],
    ) -> str:
        """The child's id: created and started, or the one this (node, index) started
        before (a parent node woken again after a crash never starts a second). Raises
        an error with a `code` when it cannot start (the target gone, bad inputs)."""
        ...

    def results(self, execution_ids: list[str]) -> dict[str, dict[str, Any]]:
        """{id: {status, outputs, error}} of these children, in one read."""
        ...

    def cancel(self, execution_ids: list[str], reason: str) -> None:
        """Ends these children, if still active, as canceled."""
        ...

    def reusable(self, execution_id: str, node_id: str) -> dict[int, str]:
        """For a retry from failure: {item index: child id} of the children the node
        completed in the execution this one retries (and the ones it retried)."""
        ...


class PortUnavailable(RuntimeError):
    """A node asked for a collaborator its context was built without."""


class _Unavailable:
    def __init__(self, name: str):
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        raise PortUnavailable(f"this node context has no {self.name} (build it with NodePorts)")


_NO_CHILDREN: Any = _Unavailable("child runner")


@dataclass(frozen=True)
class NodePorts:
    """What the engine hands every node. `records_for` binds the store to the workflow's
    owner, so a node cannot reach another user's records. `children` starts and reads the
    child executions of SUBWORKFLOW and MAP. Later ports (checking a budget) are added
    here, beside these."""

    records_for: Callable[[Any], RecordStore]
    http: HttpClient
    ai: AiCompleter
    children: ChildRunner = _NO_CHILDREN


def _no_records(owner_id: Any) -> RecordStore:
    return _Unavailable("record store")


NO_PORTS = NodePorts(
    records_for=_no_records,
    http=_Unavailable("HTTP client"),
    ai=_Unavailable("AI completer"),
    children=_NO_CHILDREN,
)
