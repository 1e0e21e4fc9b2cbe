"""Record collections: every operation and filter, the same on SQLite and PostgreSQL (the
DATABASE node through real workers is in test_database_node_workflows.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from records_app import store
from records_app.filters import RecordQueryError
from records_app.models import Record
from tests.support.factories import UserFactory

PEOPLE = [
    {"name": "ada", "age": 36, "tier": "gold", "active": True, "address": {"city": "London", "zip": "N1"}},
    {"name": "Bob", "age": 25, "tier": "silver", "active": False, "address": {"city": "Paris"}},
    {"name": "cy", "age": "unknown", "tier": None, "active": True},
    {"name": "dee", "age": 51.5, "address": {"city": "london", "zip": 75}},
    {"name": "eve", "age": 25, "tier": "gold", "tags": ["x"]},
]


@pytest.fixture
def owner(db) -> Any:
    user = UserFactory()
    for person in PEOPLE:
        store.record_insert(owner_id=user.id, collection="people", document=person)
    return user


def names(owner: Any, filter: Any, sort: Any = None, collection: str = "people") -> list[str]:
    found = store.record_find(owner_id=owner.id, collection=collection, filter=filter, sort=sort)
    return [record["name"] for record in found]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({}, ["ada", "Bob", "cy", "dee", "eve"]),
        ({"name": "ada"}, ["ada"]),
        ({"age": 25}, ["Bob", "eve"]),
        ({"age": 51.5}, ["dee"]),
        ({"active": True}, ["ada", "cy"]),
        ({"active": False}, ["Bob"]),
        ({"tier": None}, ["cy", "dee"]),  # null matches null and missing
        ({"address.city": "London"}, ["ada"]),  # case-sensitive
        ({"address.zip": 75}, ["dee"]),
        ({"address.zip": "75"}, []),  # a string never equals a number
        ({"age": {"$gt": 30}}, ["ada", "dee"]),  # the text "unknown" is no number
        ({"age": {"$gte": 36}}, ["ada", "dee"]),
        ({"age": {"$lt": 36}}, ["Bob", "eve"]),
        ({"age": {"$lte": 36, "$gt": 25}}, ["ada"]),
        ({"name": {"$gt": "Z"}}, ["ada", "cy", "dee", "eve"]),  # by code point: "B" < "Z" < "a"
        ({"name": {"$lt": "b"}}, ["ada", "Bob"]),
        ({"age": {"$gt": "a"}}, ["cy"]),  # strings compare with strings only
        ({"address.city": {"$gte": "London"}}, ["ada", "Bob", "dee"]),
        ({"tier": {"$ne": "gold"}}, ["Bob", "cy", "dee"]),  # $ne matches a missing field too
        ({"active": {"$ne": True}}, ["Bob", "dee", "eve"]),
        ({"tier": {"$in": ["gold", None]}}, ["ada", "cy", "dee", "eve"]),
        ({"age": {"$in": [25, "unknown"]}}, ["Bob", "cy", "eve"]),
        ({"age": {"$nin": [25, 36]}}, ["cy", "dee"]),
        ({"address": {"$exists": True}}, ["ada", "Bob", "dee"]),
        ({"address.zip": {"$exists": False}}, ["Bob", "cy", "eve"]),
        ({"tier": {"$exists": True}}, ["ada", "Bob", "cy", "eve"]),  # a null value exists
        ({"$or": [{"name": "ada"}, {"age": {"$lt": 30}}]}, ["ada", "Bob", "eve"]),
        ({"$and": [{"tier": "gold"}, {"age": 25}]}, ["eve"]),
        ({"tags": {"$exists": True}, "tier": "gold"}, ["eve"]),
        ({"name": {"$eq": "cy"}}, ["cy"]),
    ],
)
def test_filters_select_the_same_records_on_every_database(owner, filter, expected) -> None:
    assert names(owner, filter) == expected


def test_id_filters_address_the_record_id(owner) -> None:
    ids = [r["id"] for r in store.record_find(owner_id=owner.id, collection="people", filter={})]
    assert names(owner, {"id": ids[1]}) == ["Bob"]
    assert names(owner, {"id": str(ids[2])}) == ["cy"]
    assert names(owner, {"id": {"$in": [ids[0], ids[4]]}}) == ["ada", "eve"]
    assert names(owner, {"id": {"$gt": ids[2]}}) == ["dee", "eve"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({"age": 1}, ["Bob", "eve", "ada", "dee", "cy"]),  # numbers (ties by id), then strings
        ({"age": -1}, ["cy", "dee", "ada", "Bob", "eve"]),  # ties keep insertion order
        ({"name": 1}, ["Bob", "ada", "cy", "dee", "eve"]),  # code point order
        ({"tier": 1, "name": -1}, ["dee", "cy", "eve", "ada", "Bob"]),
        ({"address.city": 1}, ["cy", "eve", "ada", "Bob", "dee"]),
        ({"id": -1}, ["eve", "dee", "cy", "Bob", "ada"]),
    ],
)
def test_sort_orders_the_same_on_every_database(owner, sort, expected) -> None:
    assert names(owner, {}, sort=sort) == expected


def test_a_find_too_large_for_a_node_output_stops_early_with_a_clear_error(db, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_node_output_bytes=1000)
    user = UserFactory()
    for n in range(40):
        store.record_insert(owner_id=user.id, collection="notes", document={"n": n, "text": "x" * 400})

    with pytest.raises(RecordQueryError) as refused:
        store.record_find(owner_id=user.id, collection="notes", filter={}, sort={"n": -1})

    assert refused.value.code == "output_too_large"
    assert "after 4 of them" in refused.value.message  # 5 records pass 2000 bytes: no more are read
    found = store.record_find(owner_id=user.id, collection="notes", filter={"n": {"$lt": 3}}, sort={"n": -1})
    assert [record["n"] for record in found] == [2, 1, 0]


def test_find_limit_is_capped_by_the_setting(owner, settings) -> None:
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, records_max_find=2)
    assert len(store.record_find(owner_id=owner.id, collection="people", filter={}, limit=100)) == 2
    found = store.record_find(owner_id=owner.id, collection="people", filter={}, limit=1, sort={"age": 1})
    assert [r["name"] for r in found] == ["Bob"]


def test_find_one_count_delete(owner) -> None:
    one = store.record_find_one(owner_id=owner.id, collection="people", filter={"tier": "gold"}, sort={"age": -1})
    assert one["name"] == "ada"
    assert one["address"] == {"city": "London", "zip": "N1"}
    assert store.record_find_one(owner_id=owner.id, collection="people", filter={"name": "zed"}) is None
    assert store.record_count(owner_id=owner.id, collection="people", filter={"age": 25}) == 2
    assert store.record_delete(owner_id=owner.id, collection="people", filter={"age": 25}) == 2
    assert store.record_count(owner_id=owner.id, collection="people", filter={}) == 3


def test_update_merges_set_unset_and_inc(owner) -> None:
    matched, modified = store.record_update(
        owner_id=owner.id,
        collection="people",
        filter={"tier": "gold"},
        update={"$set": {"address.country": "UK", "vip": True}, "$inc": {"age": 1}, "$unset": ["tags"]},
    )
    assert (matched, modified) == (2, 2)
    ada = store.record_find_one(owner_id=owner.id, collection="people", filter={"name": "ada"})
    assert ada["address"] == {"city": "London", "zip": "N1", "country": "UK"}
    assert ada["age"] == 37 and ada["vip"] is True
    eve = store.record_find_one(owner_id=owner.id, collection="people", filter={"name": "eve"})
    assert "tags" not in eve and eve["address"] == {"country": "UK"}
    # A plain object is a $set; a record already so is matched but not modified.
    assert store.record_update(
        owner_id=owner.id, collection="people", filter={"name": {"$in": ["ada", "Bob"]}}, update={"vip": True}
    ) == (2, 1)


@pytest.mark.parametrize(
    ("filter", "code"),
    [
        ({"age": {"$regex": "a"}}, "invalid_filter"),
        ({"$where": "1"}, "invalid_filter"),
        ({"age": {"$gt": True}}, "invalid_filter"),
        ({"age": {"$in": "x"}}, "invalid_filter"),
        ({"a..b": 1}, "invalid_filter"),
        ({"items.0": 1}, "invalid_filter"),
        ({"age": {"x": 1}}, "invalid_filter"),
        ({"id": "abc"}, "invalid_filter"),
    ],
)
def test_unusable_filters_are_clear_errors(owner, filter, code) -> None:
    with pytest.raises(RecordQueryError) as caught:
        store.record_find(owner_id=owner.id, collection="people", filter=filter)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("update", "code"),
    [
        ({"$push": {"a": 1}}, "invalid_update"),
        ({"$inc": {"age": "1"}}, "invalid_update"),
        ({"$set": {"id": 3}}, "invalid_update"),
        ({"$inc": {"name": 1}}, "invalid_update"),
        ({"$set": {"name.first": "x"}}, "invalid_update"),
    ],
)
def test_unusable_updates_are_clear_errors(owner, update, code) -> None:
    with pytest.raises(RecordQueryError) as caught:
        store.record_update(owner_id=owner.id, collection="people", filter={"name": "ada"}, update=update)
    assert caught.value.code == code


def test_collections_and_owners_are_separate(owner) -> None:
    other = UserFactory()
    store.record_insert(owner_id=other.id, collection="people", document={"name": "mallory"})
    store.record_insert(owner_id=owner.id, collection="pets", document={"name": "rex"})
    assert names(other, {}) == ["mallory"]
    assert "mallory" not in names(owner, {})
    assert names(owner, {}, collection="pets") == ["rex"]
    assert store.record_delete(owner_id=other.id, collection="people", filter={}) == 1
    assert store.record_count(owner_id=owner.id, collection="people", filter={}) == 5


def test_documents_must_be_objects_without_an_id(owner) -> None:
    for document, code in (([1], "invalid_document"), ({"id": 1}, "invalid_document")):
        with pytest.raises(RecordQueryError) as caught:
            store.record_insert(owner_id=owner.id, collection="people", document=document)
        assert caught.value.code == code


def test_documents_the_database_cannot_store_are_clear_errors(owner) -> None:
    """Reached from data (an HTTP reply, a float $inc past its range on SQLite), never a
    DataError shown as an internal error and retried."""
    cases = [
        ({"n": float("inf")}, "NaN or Infinity"),
        ({"a": {"b": "x\x00y"}}, "a.b: a NUL character"),
        ({"note": "half \ud800"}, "note: a NUL character or a lone surrogate"),
    ]
    for document, says in cases:
        with pytest.raises(RecordQueryError) as caught:
            store.record_insert(owner_id=owner.id, collection="people", document=document)
        assert (caught.value.code, says in caught.value.message) == ("invalid_document", True), caught.value.message
    assert Record.objects.filter(owner=owner).count() == len(PEOPLE)
    # A whole surrogate pair (any emoji) is text like any other.
    saved = store.record_insert(owner_id=owner.id, collection="people", document={"note": "fine \U0001f600"})
    assert Record.objects.get(id=saved).data == {"note": "fine \U0001f600"}


def test_records_are_read_only_in_the_admin(owner) -> None:
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    record = Record.objects.filter(owner=owner).first()
    page = browser.get(f"/admin/records_app/record/{record.id}/change/")
    assert page.status_code == 200
    assert b"London" in page.content
    assert b'name="_save"' not in page.content
    assert browser.get("/admin/records_app/record/add/").status_code == 403


def test_an_integer_past_64_bits_in_a_filter_is_refused_plainly(owner) -> None:
    with pytest.raises(RecordQueryError) as refused:
        store.record_find(owner_id=owner.id, collection="people", filter={"age": {"$gte": 2**63}})
    assert "integers within ±2^63" in refused.value.message
    assert names(owner, {"age": {"$gte": float(2**63)}}) == []
