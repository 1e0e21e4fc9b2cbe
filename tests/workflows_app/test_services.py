from __future__ import annotations

import pytest

from core.api import Conflict, NotFound, ValidationFailed
from tests.support.definitions import echo_definition, support_triage
from tests.support.factories import UserFactory, WorkflowFactory
from workflows_app.definition import DefinitionInvalid
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.selectors import workflow_export_document, workflow_get
from workflows_app.services import workflow_archive, workflow_create, workflow_import, workflow_update

pytestmark = pytest.mark.django_db


def test_create_saves_version_one():
    owner = UserFactory()
    workflow = workflow_create(owner=owner, name="Triage", definition=support_triage())
    assert workflow.current_version.number == 1
    assert workflow.current_version.definition == support_triage()
    assert workflow.current_version.created_by == owner


def test_create_refuses_an_invalid_definition_and_saves_nothing():
    with pytest.raises(DefinitionInvalid):
        workflow_create(owner=UserFactory(), name="Broken", definition={"nodes": [], "edges": []})
    assert not Workflow.objects.exists()


def test_two_definition_updates_make_three_versions_and_keep_the_old_ones():
    workflow = WorkflowFactory(definition=echo_definition("one"))
    workflow_update(workflow=workflow, user=workflow.owner, definition=echo_definition("two"))
    workflow = workflow_update(workflow=workflow, user=workflow.owner, definition=echo_definition("three"))
    versions = list(WorkflowVersion.objects.filter(workflow=workflow).order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.definition["nodes"][1]["config"]["value"]["echo"] for v in versions] == ["one", "two", "three"]
    assert workflow.current_version == versions[2]


def test_name_description_and_active_changes_make_no_version():
    workflow = WorkflowFactory()
    workflow = workflow_update(
        workflow=workflow, user=workflow.owner, name="Renamed", description="New", is_active=False
    )
    assert (workflow.name, workflow.description, workflow.is_active) == ("Renamed", "New", False)
    assert workflow.versions.count() == 1


def test_the_same_definition_makes_no_version():
    workflow = WorkflowFactory()
    workflow_update(workflow=workflow, user=workflow.owner, definition=echo_definition())
    assert workflow.versions.count() == 1


def test_stale_version_is_a_conflict():
    workflow = WorkflowFactory()
    workflow_update(workflow=workflow, user=workflow.owner, expected_version=1, definition=echo_definition("v2"))
    with pytest.raises(Conflict) as caught:
        workflow_update(workflow=workflow, user=workflow.owner, expected_version=1, name="late")
    assert caught.value.code == "version_conflict"
    assert caught.value.details == {"current_version": 2}
    assert Workflow.objects.get(pk=workflow.pk).name != "late"


def test_versions_are_immutable():
    version = WorkflowFactory().current_version
    version.definition = {"nodes": []}
    with pytest.raises(ValueError, match="immutable"):
        version.save()


def test_archive_hides_the_workflow_and_keeps_its_versions():
    workflow = WorkflowFactory()
    workflow_archive(workflow=workflow)
    with pytest.raises(NotFound):
        workflow_get(workflow.owner, workflow.pk)
    assert WorkflowVersion.objects.filter(workflow_id=workflow.pk).count() == 1
    with pytest.raises(NotFound):
        workflow_update(workflow=workflow, user=workflow.owner, name="back")


def test_export_then_import_round_trip():
    workflow = WorkflowFactory(definition=support_triage(), description="Angry first")
    workflow = workflow_update(workflow=workflow, user=workflow.owner, definition=echo_definition())
    document = workflow_export_document(workflow)
    someone = UserFactory()
    copy = workflow_import(owner=someone, document=document)
    assert copy.pk != workflow.pk
    assert copy.owner == someone
    assert (copy.name, copy.description, copy.is_active) == (workflow.name, "Angry first", True)
    assert copy.current_version.number == 1
    assert copy.current_version.definition == workflow.current_version.definition


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"definition": {}}, "name"),
        ({"name": "x"}, "definition"),
        ({"name": "x", "definition": {}, "format": "other/v9"}, "format"),
        ({"name": "x", "definition": {}, "surprise": 1}, "surprise"),
        ({"name": "x", "definition": {}, "is_active": "yes"}, "is_active"),
    ],
)
def test_import_refuses_what_is_not_an_export(document, field):
    with pytest.raises(ValidationFailed) as caught:
        workflow_import(owner=UserFactory(), document=document)
    assert field in caught.value.details


def test_import_validates_the_definition():
    with pytest.raises(DefinitionInvalid):
        workflow_import(owner=UserFactory(), document={"name": "x", "definition": {"nodes": []}})
