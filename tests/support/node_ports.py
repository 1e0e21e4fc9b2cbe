"""Fakes of the ports a node type is given (workflows_app/nodes/ports.py), for testing a
node type alone: no database, no Redis, no network. Each fake notes every call it gets
and answers what the test told it to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from ai_providers.base import Completion, CompletionResult
from outbound.client import GuardedResponse
from records_app.filters import RecordQueryError
from workflows_app.nodes.base import NodeContext
from workflows_app.nodes.ports import NO_PORTS, AiCompleter, ChildRunner, HttpClient, NodePorts, RecordStore

WRITES = ("insert", "update", "delete")


class FakeRecordStore:
    """A RecordStore that answers reads with `records` (find, find_one) and `count`,
    writes with `inserted_id`, `updated` and `deleted`. Its checks refuse what the real
    store refuses first: a document that is not an object or names an `id`, a filter or
    an update that is not an object."""

    def __init__(
        self,
        *,
        records: list[dict] | None = None,
        count: int = 0,
        inserted_id: int = 1,
        updated: tuple[int, int] = (0, 0),
        deleted: int = 0,
    ) -> None:
        self.records, self.count_answer = records or [], count
        self.inserted_id, self.updated, self.deleted = inserted_id, updated, deleted
        self.calls: list[tuple[str, dict]] = []

    @property
    def writes(self) -> list[tuple[str, dict]]:
        return [call for call in self.calls if call[0] in WRITES]

    def find(self, *, collection: str, filter: Any, sort: Any = None, limit: int | None = None) -> list[dict]:
        self.calls.append(("find", {"collection": collection, "filter": filter, "sort": sort, "limit": limit}))
        return [dict(record) for record in self.records]

    def find_one(self, *, collection: str, filter: Any, sort: Any = None) -> dict | None:
        self.calls.append(("find_one", {"collection": collection, "filter": filter, "sort": sort}))
        return dict(self.records[0]) if self.records else None

    def count(self, *, collection: str, filter: Any) -> int:
        self.calls.append(("count", {"collection": collection, "filter": filter}))
        return self.count_answer

    def insert(self, *, collection: str, document: dict) -> int:
        self.calls.append(("insert", {"collection": collection, "document": document}))
        return self.inserted_id

    def update(self, *, collection: str, filter: Any, update: Any) -> tuple[int, int]:
        self.calls.append(("update", {"collection": collection, "filter": filter, "update": update}))
        return self.updated

    def delete(self, *, collection: str, filter: Any) -> int:
        self.calls.append(("delete", {"collection": collection, "filter": filter}))
        return self.deleted

    def check_document(self, document: Any) -> dict:
        self.calls.append(("check_document", {"document": document}))
        if not isinstance(document, dict):
            raise RecordQueryError("A document is a JSON object.", code="invalid_document")
        if "id" in document:
            raise RecordQueryError('"id" is the record\'s own id.', code="invalid_document")
        return document

    def check_filter(self, filter: Any) -> None:
        self.calls.append(("check_filter", {"filter": filter}))
        if not isinstance(filter, dict):
            raise RecordQueryError("A filter is a JSON object.")

    def check_update(self, update: Any) -> None:
        self.calls.append(("check_update", {"update": update}))
        if not isinstance(update, dict) or not update:
            raise RecordQueryError("update is a non-empty object.", code="invalid_update")


def http_answer(
    status: int = 200,
    body: bytes | str = b"{}",
    content_type: str = "application/json",
    url: str = "https://api.example.com/",
    **headers: str,
) -> GuardedResponse:
    """A response as the guarded client returns it (`headers`: extra ones, `_` for `-`)."""
    content = body.encode() if isinstance(body, str) else body
    fields = {"content-type": content_type, **{name.replace("_", "-"): value for name, value in headers.items()}}
    return GuardedResponse(status=status, headers=httpx.Headers(fields), content=content, url=url)


class FakeHttpClient:
    """An HttpClient that answers every call with `answer` and notes each call: its method,
    URL and every option, as {"method", "url", **options}."""

    def __init__(self, answer: GuardedResponse | None = None) -> None:
        self.answer = answer or http_answer()
        self.calls: list[dict] = []

    def request(self, method: str, url: str, **options: Any) -> GuardedResponse:
        self.calls.append({"method": method, "url": url, **options})
        return self.answer


class FakeAiCompleter:
    """An AiCompleter that answers every completion with `result` and notes each call."""

    def __init__(self, result: CompletionResult) -> None:
        self.result = result
        self.calls: list[dict] = []
        self.prepared = 0

    def prepare(self) -> None:
        self.prepared += 1

    def complete(
        self,
        *,
        task_type: str,
        request: Completion,
        chain_override: list[str] | None,
        user_id: Any,
        attempt_log: list[dict],
        deadline: float | None,
        announce: Callable[[Any], None] | None,
        deferred: list[Callable[[], None]] | None,
    ) -> CompletionResult:
        self.calls.append(
            {
                "task_type": task_type,
                "request": request,
                "chain_override": chain_override,
                "user_id": user_id,
                "attempt_log": attempt_log,
                "deadline": deadline,
                "announce": announce,
                "deferred": deferred,
            }
        )
        return self.result


class FakeChildren:
    """A child runner whose children complete at once with `answer(inputs)` as outputs;
    it notes every start."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any]) -> None:
        self.answer = answer
        self.started: list[dict[str, Any]] = []
        self.outputs: dict[str, Any] = {}

    def start(self, **call: Any) -> str:
        child_id = f"child-{len(self.started)}"
        self.started.append(call)
        self.outputs[child_id] = self.answer(call["inputs"])
        return child_id

    def results(self, execution_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: {"status": "completed", "outputs": self.outputs[i], "error": None} for i in execution_ids}

    def cancel(self, execution_ids: list[str], reason: str) -> None:
        pass

    def reusable(self, execution_id: str, node_id: str) -> dict[int, str]:
        return {}


class OwnerBoundStores:
    """records_for: the store it was built with, noting which owners asked for it."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.owners: list[Any] = []

    def __call__(self, owner_id: Any) -> RecordStore:
        self.owners.append(owner_id)
        return self.store


def fake_ports(
    *,
    records: RecordStore | None = None,
    http: HttpClient | None = None,
    ai: AiCompleter | None = None,
    children: ChildRunner | None = None,
) -> NodePorts:
    """NodePorts of the given fakes; a port not given raises PortUnavailable when used."""
    return NodePorts(
        records_for=OwnerBoundStores(records) if records is not None else NO_PORTS.records_for,
        http=http if http is not None else NO_PORTS.http,
        ai=ai if ai is not None else NO_PORTS.ai,
        children=children if children is not None else NO_PORTS.children,
    )


def node_context(ports: NodePorts = NO_PORTS, **overrides: Any) -> NodeContext:
    """The context of node runs in these tests: execution exec-9 of workflow wf-1 (v3,
    "Support triage") owned by user 7, with a deadline far away."""
    values: dict[str, Any] = {
        "inputs": {"message": "The parcel is late again", "count": 2},
        "nodes": {"mood": {"label": "negative", "score": None}},
        "execution_id": "exec-9",
        "workflow": {"id": "wf-1", "name": "Support triage", "version": 3},
        "owner_id": 7,
        "deadline": None,
        "ports": ports,
    }
    values.update(overrides)
    return NodeContext(**values)
