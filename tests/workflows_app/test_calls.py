"""Save-time checks of SUBWORKFLOW and MAP calls: the target is the owner's, and no chain
of calls leads back to the workflow being saved."""

from __future__ import annotations

import uuid

import pytest

from tests.support.definitions import edge, input_node, node
from tests.support.factories import UserFactory
from workflows_app.calls import calls_in
from workflows_app.definition import DefinitionInvalid
from workflows_app.services import workflow_archive, workflow_create, workflow_import, workflow_update

pytestmark = pytest.mark.django_db


def leaf() -> dict:
    return {"nodes": [input_node(), node("result", "OUTPUT", {"value": 1})], "edges": [edge("start", "result")]}


def calling(*targets: str, kind: str = "SUBWORKFLOW") -> dict:
    """A definition with one call node per target, in a chain."""
    nodes, edges, previous = [input_node()], [], "start"
    for position, target in enumerate(targets):
        config = {"workflow_id": str(target)}
        if kind == "MAP":
            config["items"] = "[1, 2]"
        nodes.append(node(f"call_{position}", kind, config))
        edges.append(edge(previous, f"call_{position}"))
        previous = f"call_{position}"
    nodes.append(node("result", "OUTPUT", {"value": 1}))
    edges.append(edge(previous, "result"))
    return {"nodes": nodes, "edges": edges}


def problems_of(exc: pytest.ExceptionInfo[DefinitionInvalid]) -> list[tuple[str, str]]:
    return [(p["path"], p["code"]) for p in exc.value.problems]


def test_calls_in_lists_each_call_with_a_well_formed_target() -> None:
    target = str(uuid.uuid4())
    definition = calling(target, "not-a-uuid", kind="MAP")
    assert calls_in(definition) == [(1, "call_0", target)]
    assert calls_in({"nodes": "oops"}) == []


def test_a_call_to_ones_own_workflow_is_saved() -> None:
    owner = UserFactory()
    target = workflow_create(owner=owner, name="leaf", definition=leaf())
    caller = workflow_create(owner=owner, name="caller", definition=calling(target.pk, kind="MAP"))
    assert caller.current_version.number == 1


@pytest.mark.parametrize("kind", ["SUBWORKFLOW", "MAP"])
def test_a_call_to_another_users_or_an_archived_or_no_workflow_is_refused(kind: str) -> None:
    owner = UserFactory()
    others = workflow_create(owner=UserFactory(), name="theirs", definition=leaf())
    archived = workflow_create(owner=owner, name="old", definition=leaf())
    workflow_archive(workflow=archived)
    with pytest.raises(DefinitionInvalid) as refused:
        workflow_create(owner=owner, name="caller", definition=calling(others.pk, archived.pk, uuid.uuid4(), kind=kind))
    assert problems_of(refused) == [
        ("nodes[1].config.workflow_id", "unknown_workflow"),
        ("nodes[2].config.workflow_id", "unknown_workflow"),
        ("nodes[3].config.workflow_id", "unknown_workflow"),
    ]
    assert f"{others.pk} is not one of your workflows" in refused.value.problems[0]["message"]


def test_import_checks_calls_too() -> None:
    document = {"name": "imported", "definition": calling(uuid.uuid4())}
    with pytest.raises(DefinitionInvalid):
        workflow_import(owner=UserFactory(), document=document)


def test_a_workflow_that_calls_itself_is_refused() -> None:
    owner = UserFactory()
    workflow = workflow_create(owner=owner, name="self", definition=leaf())
    with pytest.raises(DefinitionInvalid) as refused:
        workflow_update(workflow=workflow, user=owner, definition=calling(workflow.pk))
    assert problems_of(refused) == [("nodes[1].config.workflow_id", "call_cycle")]
    assert "this workflow -> this workflow" in refused.value.problems[0]["message"]


@pytest.mark.parametrize("kind", ["SUBWORKFLOW", "MAP"])
def test_a_chain_of_calls_that_leads_back_is_refused_and_named(kind: str) -> None:
    owner = UserFactory()
    first = workflow_create(owner=owner, name="first", definition=leaf())
    second = workflow_create(owner=owner, name="second", definition=calling(first.pk, kind=kind))
    third = workflow_create(owner=owner, name="third", definition=calling(second.pk, kind=kind))
    with pytest.raises(DefinitionInvalid) as refused:
        workflow_update(workflow=first, user=owner, definition=calling(third.pk, kind=kind))
    assert problems_of(refused) == [("nodes[1].config.workflow_id", "call_cycle")]
    message = refused.value.problems[0]["message"]
    assert "this workflow -> 'third' -> 'second' -> this workflow" in message
    assert first.versions.count() == 1  # nothing saved


def test_a_diamond_is_not_a_cycle() -> None:
    owner = UserFactory()
    base = workflow_create(owner=owner, name="base", definition=leaf())
    left = workflow_create(owner=owner, name="left", definition=calling(base.pk))
    right = workflow_create(owner=owner, name="right", definition=calling(base.pk))
    top = workflow_create(owner=owner, name="top", definition=calling(left.pk, right.pk))
    updated = workflow_update(workflow=top, user=owner, definition=calling(left.pk, right.pk, base.pk))
    assert updated.current_version.number == 2


def test_an_archived_workflow_breaks_a_chain() -> None:
    owner = UserFactory()
    base = workflow_create(owner=owner, name="base", definition=leaf())
    far = workflow_create(owner=owner, name="far", definition=calling(base.pk))
    near = workflow_create(owner=owner, name="near", definition=calling(far.pk))
    workflow_archive(workflow=far)  # its calls no longer run: near fails at run time instead
    updated = workflow_update(workflow=base, user=owner, definition=calling(near.pk))
    assert updated.current_version.number == 2


def test_the_api_answers_a_cycle_with_the_definition_error(auth_client) -> None:
    created = auth_client.post("/api/workflows", {"name": "a", "definition": leaf()}, format="json").json()
    refused = auth_client.patch(
        f"/api/workflows/{created['id']}", {"definition": calling(created["id"], kind="MAP")}, format="json"
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "invalid_definition"
    assert error["details"] == [
        {
            "node_id": "call_0",
            "path": "nodes[1].config.workflow_id",
            "code": "call_cycle",
            "message": "the call leads back to this workflow: this workflow -> this workflow",
        }
    ]
