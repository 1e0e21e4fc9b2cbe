from __future__ import annotations

import pytest
from django.test import Client

from accounts_app.models import ApiKey, User
from tests.support.factories import ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in() -> Client:
    admin = User.objects.create_superuser("root", "root@example.com", "admin-password-long-1")
    client = Client()
    client.force_login(admin)
    return client


def test_the_api_key_pages_never_show_the_secret_or_its_hash(admin_client_logged_in):
    api_key, raw = ApiKeyFactory.create_with_key()
    secret = raw.partition(".")[2]

    listing = admin_client_logged_in.get("/admin/accounts_app/apikey/")
    detail = admin_client_logged_in.get(f"/admin/accounts_app/apikey/{api_key.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        text = page.content.decode()
        assert api_key.prefix in text
        assert secret not in text
        assert api_key.secret_hash not in text


def test_the_admin_cannot_add_or_edit_keys(admin_client_logged_in):
    api_key = ApiKeyFactory()

    assert admin_client_logged_in.get("/admin/accounts_app/apikey/add/").status_code == 403
    admin_client_logged_in.post(f"/admin/accounts_app/apikey/{api_key.pk}/change/", {"name": "renamed"})
    assert ApiKey.objects.get(pk=api_key.pk).name == api_key.name


def test_the_revoke_action_revokes_the_selected_keys(admin_client_logged_in):
    chosen, kept = ApiKeyFactory(), ApiKeyFactory()

    response = admin_client_logged_in.post(
        "/admin/accounts_app/apikey/", {"action": "revoke_keys", "_selected_action": [chosen.pk]}
    )

    assert response.status_code == 302
    assert ApiKey.objects.get(pk=chosen.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=kept.pk).revoked_at is None


def test_the_deactivate_action_stops_the_users_key(admin_client_logged_in):
    api_key, raw = ApiKeyFactory.create_with_key(user=UserFactory())

    admin_client_logged_in.post(
        "/admin/accounts_app/user/", {"action": "deactivate_users", "_selected_action": [api_key.user_id]}
    )

    assert User.objects.get(pk=api_key.user_id).is_active is False
    response = Client().get("/api/auth/me", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 401


def test_adding_users_in_the_admin_asks_for_the_unique_email(admin_client_logged_in):
    def add(username: str, email: str):
        return admin_client_logged_in.post(
            "/admin/accounts_app/user/add/",
            {
                "username": username,
                "email": email,
                "usable_password": "true",
                "password1": "violet-ladder-orbit-42",
                "password2": "violet-ladder-orbit-42",
            },
        )

    assert add("first", "first@example.com").status_code == 302
    duplicate = add("second", "first@example.com")

    assert duplicate.status_code == 200  # the form again, with the error
    assert "already exists" in duplicate.content.decode()
    assert User.objects.filter(username="first", email="first@example.com").exists()
    assert not User.objects.filter(username="second").exists()


def view_only_staff() -> Client:
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "view_workflow"]),
    )
    client = Client()
    client.force_login(staff)
    return client


def test_a_view_only_staff_account_cannot_deactivate_or_archive() -> None:
    from tests.support.factories import WorkflowFactory
    from workflows_app.models import Workflow

    admin = User.objects.create_superuser("boss", "boss@example.com", "admin-password-long-1")
    workflow = WorkflowFactory()
    staff = view_only_staff()

    staff.post("/admin/accounts_app/user/", {"action": "deactivate_users", "_selected_action": [admin.pk]})
    staff.post("/admin/workflows_app/workflow/", {"action": "archive_workflows", "_selected_action": [workflow.pk]})

    assert User.objects.get(pk=admin.pk).is_active is True
    assert Workflow.objects.get(pk=workflow.pk).archived_at is None


def test_only_a_superuser_deactivates_a_superuser() -> None:
    from django.contrib.auth.models import Permission

    admin = User.objects.create_superuser("boss", "boss@example.com", "admin-password-long-1")
    member = UserFactory()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = Client()
    client.force_login(staff)

    client.post("/admin/accounts_app/user/", {"action": "deactivate_users", "_selected_action": [admin.pk, member.pk]})

    assert User.objects.get(pk=admin.pk).is_active is True
    assert User.objects.get(pk=member.pk).is_active is False


def test_a_staff_member_cannot_make_themselves_superuser_or_set_others_passwords() -> None:
    from django.contrib.auth.models import Permission

    member = UserFactory()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = Client()
    client.force_login(staff)

    own_page = client.get(f"/admin/accounts_app/user/{staff.pk}/change/")
    set_password = client.post(
        f"/admin/accounts_app/user/{member.pk}/password/",
        {"password1": "amber-kettle-quartz-77", "password2": "amber-kettle-quartz-77", "usable_password": "true"},
    )

    assert own_page.status_code == 200
    assert "is_superuser" not in own_page.context["adminform"].form.fields
    assert "user_permissions" not in own_page.context["adminform"].form.fields
    assert set_password.status_code == 403
    assert User.objects.get(pk=member.pk).check_password("amber-kettle-quartz-77") is False


def test_the_admins_own_password_change_form_is_throttled(settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "2/min"},
    }
    staff = User.objects.create_superuser("boss", "boss@example.com", "admin-password-long-1")
    client = Client(REMOTE_ADDR="10.0.0.9")
    client.force_login(staff)
    guess = {"old_password": "a-wrong-guess-1", "new_password1": "x-y-z-long-1234", "new_password2": "x-y-z-long-1234"}

    answers = [client.post("/admin/password_change/", guess).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
