"""The operator's admin for executions (executions_app/admin.py): run again, cancel,
filters and search; credentials with hidden values."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from credentials_app.models import Credential
from credentials_app.services import credential_create, decrypt
from executions_app.models import Execution
from tests.support.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/executions_app/execution/"


def admin_browser(staff_user) -> Client:
    browser = Client()
    assert browser.login(username=staff_user.username, password=DEFAULT_PASSWORD)
    return browser


def act(browser: Client, action: str, *executions: str) -> str:
    response = browser.post(CHANGELIST, {"action": action, "_selected_action": list(executions)}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.worker_thread
def test_run_again_retries_a_failed_execution_and_reruns_a_completed_one(
    celery_worker, staff_user, divide_workflow, run
) -> None:
    failed = run(divide_workflow, {"n": 0}).json()
    completed = run(divide_workflow, {"n": 5}).json()
    page = act(admin_browser(staff_user), "run_again", failed["id"], completed["id"])
    assert "Started 2 execution(s)" in page

    retry = Execution.objects.get(retried_from_id=failed["id"])
    rerun = Execution.objects.exclude(id__in=[failed["id"], completed["id"], retry.id]).get()
    assert retry.inputs == {"n": 0}
    assert rerun.inputs == {"n": 5}
    assert str(rerun.workflow_id) == divide_workflow
    wait_for(lambda: Execution.objects.get(id=rerun.id).status == "completed")
    wait_for(lambda: Execution.objects.get(id=retry.id).status == "failed")  # same inputs, same failure


def test_cancel_stops_a_queued_execution_and_leaves_finished_ones(staff_user, divide_workflow, run) -> None:
    queued = run(divide_workflow, {"n": 1}, wait=None).json()  # no worker: it stays queued
    page = act(admin_browser(staff_user), "cancel", queued["id"])
    assert "Canceled 1 execution(s)" in page
    assert Execution.objects.get(id=queued["id"]).status == "canceled"
    page = act(admin_browser(staff_user), "cancel", queued["id"])
    assert "Canceled 0 execution(s) (1 already finished, unchanged)" in page


def test_staff_without_the_permissions_do_not_get_the_actions(divide_workflow, run) -> None:
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_execution"))
    queued = run(divide_workflow, {"n": 1}, wait=None).json()
    browser = admin_browser(viewer)
    page = browser.get(CHANGELIST).content.decode()
    assert queued["id"] in page
    assert 'value="run_again"' not in page
    assert 'value="cancel"' not in page
    assert (
        'value="run_again"'
        in admin_browser(UserFactory(is_staff=True, is_superuser=True)).get(CHANGELIST).content.decode()
    )


def test_filters_and_search_find_what_an_operator_looks_for(staff_user, user, divide_workflow, run) -> None:
    queued = run(divide_workflow, {"n": 1}, wait=None).json()
    browser = admin_browser(staff_user)
    for query in ("?q=divide", f"?q={user.username}", f"?q={queued['id']}", "?status__exact=queued"):
        assert queued["id"] in browser.get(CHANGELIST + query).content.decode(), query
    assert queued["id"] not in browser.get(CHANGELIST + "?status__exact=failed").content.decode()
    assert queued["id"] not in browser.get(CHANGELIST + "?q=nothing-like-it").content.decode()
    change = browser.get(f"{CHANGELIST}{queued['id']}/change/").content.decode()
    assert "divide" in change  # the node runs inline


def test_credential_values_never_show_and_can_be_replaced(staff_user, user) -> None:
    credential = credential_create(user=user, name="SLACK_TOKEN", value="xoxb-very-secret-42")
    browser = admin_browser(staff_user)
    url = f"/admin/credentials_app/credential/{credential.pk}/change/"
    page = browser.get(url).content.decode()
    assert "SLACK_TOKEN" in page
    assert "xoxb-very-secret-42" not in page
    assert credential.encrypted_value not in page

    response = browser.post(url, {"name": "SLACK_TOKEN", "description": "bot", "value": ""})
    assert response.status_code == 302
    assert decrypt(Credential.objects.get(pk=credential.pk).encrypted_value) == "xoxb-very-secret-42"
    browser.post(url, {"name": "SLACK_TOKEN", "description": "bot", "value": "xoxb-new-value-43"})
    assert decrypt(Credential.objects.get(pk=credential.pk).encrypted_value) == "xoxb-new-value-43"

    add = browser.post(
        "/admin/credentials_app/credential/add/", {"owner": user.pk, "name": "SLACK_TOKEN", "description": ""}
    )
    assert add.status_code == 200  # the form again, with its errors
    text = add.content.decode()
    assert "A new credential needs a value." in text
    assert "already has a credential with this name" in text


def test_a_staff_member_cannot_write_another_users_credentials(transactional_db, user) -> None:
    credential = credential_create(user=user, name="SLACK_TOKEN", value="xoxb-very-secret-42")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_credential"))
    browser = admin_browser(staff)
    url = f"/admin/credentials_app/credential/{credential.pk}/change/"

    assert browser.get(url).status_code == 200  # can see it (never its value)
    replaced = browser.post(url, {"name": "SLACK_TOKEN", "description": "", "value": "xoxb-staff-own-token"})
    renamed = browser.post(url, {"name": "OTHER", "description": "", "value": ""})
    planted = browser.post(
        "/admin/credentials_app/credential/add/", {"owner": user.pk, "name": "HOOK_TOKEN", "value": "staff-own-1"}
    )
    own = browser.post(
        "/admin/credentials_app/credential/add/", {"owner": staff.pk, "name": "HOOK_TOKEN", "value": "staff-own-1"}
    )

    assert replaced.status_code == renamed.status_code == 403
    stored = Credential.objects.get(pk=credential.pk)
    assert (stored.name, decrypt(stored.encrypted_value)) == ("SLACK_TOKEN", "xoxb-very-secret-42")
    assert planted.status_code == 200
    assert f"Only {user.username} or a superuser can write" in planted.content.decode()
    assert not Credential.objects.filter(owner=user, name="HOOK_TOKEN").exists()
    assert own.status_code == 302
