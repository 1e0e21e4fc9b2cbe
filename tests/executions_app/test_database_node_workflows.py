"""The DATABASE node through real workers: writes commit once, with the node's result,
and one user's workflow never sees another's records."""

from __future__ import annotations

import pytest

from config.celery import app
from executions_app.models import NodeRun
from records_app import store
from records_app.models import Record
from tests.support.definitions import edge, input_node, node
from tests.support.executions import nodes_by_id
from tests.support.factories import UserFactory
from tests.support.workers import ping_workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker_thread
def test_insert_find_update_count_delete_in_one_workflow(celery_worker, make_workflow, run, user) -> None:
    workflow_id = make_workflow(
        [
            input_node(text={"type": "string", "required": True}, n={"type": "integer", "default": 3}),
            node("save", "DATABASE", {"operation": "insert", "collection": "notes", "document": {
                "text": "{{ inputs.text }}", "n": "{{ inputs.n }}", "meta": {"by": "{{ workflow.name }}"}}}),
            node("bump", "DATABASE", {"operation": "update", "collection": "notes",
                                      "filter": {"id": "{{ nodes.save.output.inserted_id }}"},
                                      "update": {"$inc": {"n": 2}, "$set": {"meta.seen": True}}}),
            node("read", "DATABASE", {"operation": "find", "collection": "notes",
                                      "filter": {"n": {"$gte": 5}, "meta.by": "wf"}, "sort": {"n": -1}, "limit": 10}),
            node("one", "DATABASE", {"operation": "find_one", "collection": "notes", "filter": {"text": "nope"}}),
            node("total", "DATABASE", {"operation": "count", "collection": "notes"}),
            node("result", "OUTPUT", {"value": {
                "id": "{{ nodes.save.output.inserted_id }}", "bump": "{{ nodes.bump.output }}",
                "read": "{{ nodes.read.output.records }}", "one": "{{ nodes.one.output.record }}",
                "total": "{{ nodes.total.output.count }}"}}),
        ],
        [edge("start", "save"), edge("save", "bump"), edge("bump", "read"), edge("read", "one"),
         edge("one", "total"), edge("total", "result")],
    )  # fmt: skip
    execution = run(workflow_id, {"text": "hello"}).json()
    assert execution["status"] == "completed", execution
    out = execution["outputs"]["result"]
    assert out["bump"] == {"matched": 1, "modified": 1}
    assert out["read"] == [{"id": out["id"], "text": "hello", "n": 5, "meta": {"by": "wf", "seen": True}}]
    assert out["one"] is None
    assert out["total"] == 1
    assert Record.objects.get(id=out["id"]).owner_id == user.id


@pytest.mark.worker_thread
def test_a_redelivered_insert_writes_once(celery_worker, make_workflow, run, user) -> None:
    workflow_id = make_workflow(
        [
            input_node(),
            node("save", "DATABASE", {"operation": "insert", "collection": "log", "document": {"at": "x"}}),
            node("result", "OUTPUT", {"value": "{{ nodes.save.output.inserted_id }}"}),
        ],
        [edge("start", "save"), edge("save", "result")],
    )
    execution = run(workflow_id).json()
    assert execution["status"] == "completed", execution
    save_run = NodeRun.objects.get(execution_id=execution["id"], node_id="save")
    for _ in range(3):
        app.send_task("workers.node_run", args=[save_run.id], queue="nodes")
    ping_workers(queue="nodes")  # one queue, one solo worker: the redeliveries came first
    assert Record.objects.filter(owner=user, collection="log").count() == 1
    save_run.refresh_from_db()
    assert save_run.attempts == 1
    assert save_run.output == {"inserted_id": execution["outputs"]["result"]}


@pytest.mark.worker_thread
def test_a_failed_write_fails_the_node_and_leaves_nothing(celery_worker, make_workflow, run, user) -> None:
    workflow_id = make_workflow(
        [
            input_node(doc={"type": "object", "required": True}),
            node("save", "DATABASE", {"operation": "insert", "collection": "log",
                                      "document": {"v": "{{ inputs.doc }}"}}),
            node("bad", "DATABASE", {"operation": "update", "collection": "log", "filter": {},
                                     "update": {"$inc": {"v": 1}}}),
            node("result", "OUTPUT", {"value": "done"}),
        ],
        [edge("start", "save"), edge("save", "bad"), edge("bad", "result")],
    )  # fmt: skip
    execution = run(workflow_id, {"doc": {"a": 1}}).json()
    assert execution["status"] == "failed"
    bad = nodes_by_id(execution)["bad"]
    assert bad["error"]["code"] == "invalid_update"
    assert Record.objects.get(owner=user, collection="log").data == {"v": {"a": 1}}


@pytest.mark.worker_thread
def test_one_users_workflow_never_sees_anothers_records(celery_worker, make_workflow, run, user) -> None:
    stranger = UserFactory()
    store.record_insert(owner_id=stranger.id, collection="secrets", document={"pin": 1234})
    workflow_id = make_workflow(
        [
            input_node(),
            node("look", "DATABASE", {"operation": "find", "collection": "secrets"}),
            node("wipe", "DATABASE", {"operation": "delete", "collection": "secrets", "filter": {}}),
            node("result", "OUTPUT", {"value": {"seen": "{{ nodes.look.output.records }}",
                                                "deleted": "{{ nodes.wipe.output.deleted }}"}}),
        ],
        [edge("start", "look"), edge("look", "wipe"), edge("wipe", "result")],
    )  # fmt: skip
    execution = run(workflow_id).json()
    assert execution["outputs"]["result"] == {"seen": [], "deleted": 0}
    assert Record.objects.filter(owner=stranger).count() == 1


def test_filter_shapes_are_checked_when_the_workflow_is_saved(auth_client) -> None:
    definition = {
        "nodes": [
            input_node(),
            node("look", "DATABASE", {"operation": "find", "collection": "c", "filter": {"a": {"$regex": "x"}}}),
            node("result", "OUTPUT", {"value": 1}),
        ],
        "edges": [edge("start", "look"), edge("look", "result")],
    }
    response = auth_client.post("/api/workflows/validate", {"definition": definition}, format="json")
    assert response.status_code == 400
    problems = response.json()["error"]["details"]
    assert any("$regex" in problem["message"] and problem["node_id"] == "look" for problem in problems), problems


@pytest.mark.worker_thread
def test_data_cannot_turn_a_filter_value_into_operators(celery_worker, make_workflow, run, user) -> None:
    """`{"id": "{{ ... }}"}` deletes one record; data that says `{"$gte": 0}` there must not
    make it delete them all."""
    ids = [store.record_insert(owner_id=user.id, collection="tickets", document={"n": n}) for n in range(3)]
    workflow_id = make_workflow(
        [
            input_node(ticket={"type": "object", "required": True}),
            node("drop", "DATABASE", {"operation": "delete", "collection": "tickets",
                                      "filter": {"id": "{{ inputs.ticket.id }}"}}),
            node("result", "OUTPUT", {"value": "{{ nodes.drop.output }}"}),
        ],
        [edge("start", "drop"), edge("drop", "result")],
    )  # fmt: skip

    execution = run(workflow_id, {"ticket": {"id": {"$gte": 0}}}).json()

    assert execution["status"] == "failed"
    error = nodes_by_id(execution)["drop"]["error"]
    assert error["code"] == "invalid_filter" and "filter.id" in error["message"]
    assert Record.objects.filter(owner=user, collection="tickets").count() == 3
    done = run(workflow_id, {"ticket": {"id": ids[0]}}).json()
    assert done["outputs"]["result"] == {"deleted": 1}


@pytest.mark.worker_thread
def test_a_whole_input_object_is_inserted_and_a_non_object_fails_the_node(
    celery_worker, make_workflow, run, user
) -> None:
    workflow_id = make_workflow(
        [
            input_node(order={"type": "object", "required": True}),
            node("save", "DATABASE", {"operation": "insert", "collection": "orders", "document": "{{ inputs.order }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.save.output.inserted_id }}"}),
        ],
        [edge("start", "save"), edge("save", "result")],
    )

    saved = run(workflow_id, {"order": {"sku": "A-1", "qty": 2}}).json()
    refused = run(workflow_id, {"order": {"id": 7}}).json()

    assert saved["status"] == "completed", saved
    assert Record.objects.get(id=saved["outputs"]["result"]).data == {"sku": "A-1", "qty": 2}
    assert refused["status"] == "failed"
    assert nodes_by_id(refused)["save"]["error"]["code"] == "invalid_document"
