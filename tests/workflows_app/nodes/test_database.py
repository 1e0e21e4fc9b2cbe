"""DATABASE alone: reads answer what the owner's store returns; writes are checked now and
deferred, one store call when the engine applies them; bad values never reach a write."""

from __future__ import annotations

from typing import Any

import pytest

from records_app.filters import RecordQueryError
from tests.support.node_ports import FakeRecordStore, fake_ports, node_context
from workflows_app.nodes.base import DeferredWrite, Node, get_node_class

PEOPLE = [{"id": 1, "name": "Ada", "city": "London"}, {"id": 2, "name": "Grace", "city": "London"}]
INPUTS = {"city": "London", "name": "Alan", "id": 2, "tag": "new"}


def database(config: dict[str, Any]) -> Node:
    return get_node_class("DATABASE").from_config("records", {"collection": "people", **config})


def run(config: dict[str, Any], store: FakeRecordStore, inputs: dict[str, Any] | None = None) -> Any:
    ports = fake_ports(records=store)
    output = database(config).run(node_context(ports, inputs=inputs if inputs is not None else INPUTS))
    assert ports.records_for.owners == [7]  # the store of the workflow's owner, and only it
    return output


@pytest.mark.parametrize(
    ("config", "store", "output", "call"),
    [
        (
            {"operation": "find", "filter": {"city": "{{ inputs.city }}"}, "sort": {"name": -1}, "limit": 5},
            FakeRecordStore(records=PEOPLE),
            {"records": PEOPLE},
            ("find", {"collection": "people", "filter": {"city": "London"}, "sort": {"name": -1}, "limit": 5}),
        ),
        (
            {"operation": "find"},
            FakeRecordStore(),
            {"records": []},
            ("find", {"collection": "people", "filter": {}, "sort": None, "limit": None}),
        ),
        (
            {"operation": "find_one", "filter": {"name": "{{ inputs.name }}"}, "sort": {"id": 1}},
            FakeRecordStore(records=PEOPLE[:1]),
            {"record": PEOPLE[0]},
            ("find_one", {"collection": "people", "filter": {"name": "Alan"}, "sort": {"id": 1}}),
        ),
        (
            {"operation": "find_one"},
            FakeRecordStore(),
            {"record": None},
            ("find_one", {"collection": "people", "filter": {}, "sort": None}),
        ),
        (
            {"operation": "count", "filter": {"city": {"$in": ["{{ inputs.city }}", "Paris"]}}},
            FakeRecordStore(count=3),
            {"count": 3},
            ("count", {"collection": "people", "filter": {"city": {"$in": ["London", "Paris"]}}}),
        ),
    ],
    ids=["find", "find-everything", "find_one", "find_one-nothing", "count"],
)
def test_a_read_answers_what_the_store_returns(config, store, output, call) -> None:
    assert run(config, store) == output
    assert store.calls == [call]


@pytest.mark.parametrize(
    ("config", "store", "output", "checks", "write"),
    [
        (
            {"operation": "insert", "document": {"name": "{{ inputs.name }}", "tags": ["{{ inputs.tag }}"]}},
            FakeRecordStore(inserted_id=41),
            {"inserted_id": 41},
            [("check_document", {"document": {"name": "Alan", "tags": ["new"]}})],
            ("insert", {"collection": "people", "document": {"name": "Alan", "tags": ["new"]}}),
        ),
        (
            {"operation": "insert", "document": "{{ nodes.mood.output }}"},
            FakeRecordStore(inserted_id=42),
            {"inserted_id": 42},
            [("check_document", {"document": {"label": "negative", "score": None}})],
            ("insert", {"collection": "people", "document": {"label": "negative", "score": None}}),
        ),
        (
            {"operation": "update", "filter": {"id": "{{ inputs.id }}"}, "update": {"$set": {"city": "Paris"}}},
            FakeRecordStore(updated=(1, 1)),
            {"matched": 1, "modified": 1},
            [("check_filter", {"filter": {"id": 2}}), ("check_update", {"update": {"$set": {"city": "Paris"}}})],
            ("update", {"collection": "people", "filter": {"id": 2}, "update": {"$set": {"city": "Paris"}}}),
        ),
        (
            {"operation": "delete", "filter": {"city": "{{ inputs.city }}"}},
            FakeRecordStore(deleted=2),
            {"deleted": 2},
            [("check_filter", {"filter": {"city": "London"}})],
            ("delete", {"collection": "people", "filter": {"city": "London"}}),
        ),
    ],
    ids=["insert", "insert-a-whole-object", "update", "delete"],
)
def test_a_write_is_checked_now_and_applied_later_in_one_store_call(config, store, output, checks, write) -> None:
    deferred = run(config, store)

    assert isinstance(deferred, DeferredWrite)
    assert store.calls == checks  # checked, not written: the engine applies it with the result
    assert deferred.apply() == output
    assert store.calls == [*checks, write]


@pytest.mark.parametrize(
    ("config", "inputs", "code", "checked"),
    [
        ({"operation": "insert", "document": "{{ inputs.doc }}"}, {"doc": ["a", "list"]}, "invalid_document", True),
        ({"operation": "insert", "document": "{{ inputs.doc }}"}, {"doc": {"id": 9, "n": 1}}, "invalid_document", True),
        # Data fills in values; it never turns one into operators that widen a delete.
        ({"operation": "delete", "filter": {"id": "{{ inputs.id }}"}}, {"id": {"$gte": 0}}, "invalid_filter", False),
        (
            {"operation": "update", "filter": {"id": "{{ inputs.id }}"}, "update": {"$set": {"n": 1}}},
            {"id": {"$ne": None}},
            "invalid_filter",
            False,
        ),
        (
            {"operation": "find", "filter": {"city": "{{ inputs.city }}"}},
            {"city": {"$exists": True}},
            "invalid_filter",
            False,
        ),
    ],
    ids=["document-not-an-object", "document-with-an-id", "delete-filter-made-operators", "update-filter", "find"],
)
def test_a_bad_document_or_filter_is_refused_before_any_write(config, inputs, code, checked) -> None:
    store = FakeRecordStore()

    with pytest.raises(RecordQueryError) as refused:
        run(config, store, inputs)

    assert refused.value.code == code
    assert store.writes == []
    # A filter made into operators is refused by the node before it asks the store anything.
    assert [name for name, _ in store.calls] == (["check_document"] if checked else [])
