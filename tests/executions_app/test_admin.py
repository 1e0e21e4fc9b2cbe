"""The executions admin: how executions and node runs read on the list and change pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from executions_app.admin_display import to_the_millisecond
from executions_app.models import Execution, NodeRun
from executions_app.services import execution_create
from tests.support.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def test_the_admin_index_names_the_apps_in_words(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "Executions" in page
    assert "Workflows" in page
    assert "Executions_App" not in page
    assert "EXECUTIONS_APP" not in page
    assert "Workflows_App" not in page


@pytest.fixture
def execution(admin_user):
    workflow = WorkflowFactory(owner=admin_user)
    made, _ = execution_create(user=admin_user, workflow_id=workflow.id, inputs={"text": "hi"})
    return made


def change_page(client, execution: Execution) -> str:
    response = client.get(f"/admin/executions_app/execution/{execution.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_times_show_to_the_millisecond(admin_client, execution):
    started = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    Execution.objects.filter(pk=execution.pk).update(started_at=started, finished_at=started + timedelta(seconds=1.25))
    NodeRun.objects.filter(execution=execution).update(started_at=started)
    page = change_page(admin_client, execution)
    assert "2026-03-04 05:06:07.891 UTC" in page
    assert "2026-03-04 05:06:09.141 UTC" in page
    assert page.count("2026-03-04 05:06:07.891 UTC") >= 2  # the execution and its node run
    listing = admin_client.get("/admin/executions_app/execution/").content.decode()
    assert to_the_millisecond(Execution.objects.get(pk=execution.pk).created_at) in listing


def test_json_fields_show_indented_and_escaped(admin_client, execution):
    Execution.objects.filter(pk=execution.pk).update(outputs={"reply": {"text": "<script>alert(1)</script>"}})
    NodeRun.objects.filter(execution=execution).update(output={"rows": [{"id": 7}]})
    page = change_page(admin_client, execution)
    escaped = "&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"
    assert f"<pre>{{\n  &quot;reply&quot;: {{\n    &quot;text&quot;: {escaped}" in page
    assert "<script>alert(1)" not in page
    assert "<pre>{\n  &quot;rows&quot;: [\n    {\n      &quot;id&quot;: 7" in page
    assert "<pre>{\n  &quot;text&quot;: &quot;hi&quot;\n}</pre>" in page  # the inputs


def test_remaining_nodes_shows_only_while_the_execution_runs(admin_client, execution):
    Execution.objects.filter(pk=execution.pk).update(remaining_nodes=2)
    assert "Remaining nodes" in change_page(admin_client, execution)
    Execution.objects.filter(pk=execution.pk).update(status="failed", finished_at=timezone.now())
    assert "Remaining nodes" not in change_page(admin_client, execution)


def test_the_list_shows_the_duration_in_seconds(admin_client, execution):
    started = timezone.now()
    Execution.objects.filter(pk=execution.pk).update(
        status="completed", started_at=started, finished_at=started + timedelta(milliseconds=1250)
    )
    listing = admin_client.get("/admin/executions_app/execution/").content.decode()
    assert '<td class="field-duration">1.25 s</td>' in listing
    assert "duration (ms)" not in listing


def run_url(workflow) -> str:
    return f"/admin/executions_app/execution/run/{workflow.pk}/"


def test_a_workflow_page_links_to_its_executions_and_to_run_it(admin_client):
    workflow = WorkflowFactory()
    page = admin_client.get(f"/admin/workflows_app/workflow/{workflow.pk}/change/").content.decode()
    assert f'href="/admin/executions_app/execution/?workflow__id__exact={workflow.pk}"' in page
    assert f'href="{run_url(workflow)}"' in page
    assert admin_client.get(f"/admin/executions_app/execution/?workflow__id__exact={workflow.pk}").status_code == 200


def test_run_starts_an_execution_owned_by_the_workflows_owner(admin_client, admin_user):
    workflow = WorkflowFactory()
    assert admin_client.get(run_url(workflow)).status_code == 200
    response = admin_client.post(run_url(workflow), {"inputs": '{"text": "hello"}'})
    execution = Execution.objects.get(workflow=workflow)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/executions_app/execution/{execution.pk}/change/"
    assert execution.owner == workflow.owner != admin_user
    assert execution.inputs == {"text": "hello"}


def test_run_with_invalid_inputs_shows_the_error_and_starts_nothing(admin_client):
    workflow = WorkflowFactory()
    response = admin_client.post(run_url(workflow), {"inputs": '{"text": 5}'})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<ul class="errorlist" id="id_inputs_error">' in page
    assert "The inputs do not match the workflow&#x27;s INPUT fields." in page
    assert "must be of type string" in page
    response = admin_client.post(run_url(workflow), {"inputs": '{"text": '})
    assert "line 1, column 10" in response.content.decode()
    assert not Execution.objects.filter(workflow=workflow).exists()
