"""Credential and Record moved out of executions_app into apps of their own. A database
migrated by the old layout migrates forward with its rows, its permissions and its admin
history: the tables keep their names and the ContentType rows follow the models."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from credentials_app.models import Credential
from records_app.models import Record

OLD_HEAD = [
    ("executions_app", "0002_credential_record"),
    ("credentials_app", None),
    ("records_app", None),
]


def migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def old_models():
    """The models as the old head knew them (Credential and Record in executions_app)."""
    loader = MigrationExecutor(connection).loader
    others = [key for key in loader.graph.leaf_nodes() if key[0] in ("admin", "auth", "contenttypes", "accounts_app")]
    return loader.project_state([OLD_HEAD[0], *others], at_end=True).apps


def new_head() -> list[tuple[str, str]]:
    """Every app's latest migration: going back to OLD_HEAD also unapplied the apps that
    depend on the moved ones (triggers_app), and the tests after this one need them."""
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_rows_permissions_and_admin_history_survive_the_move() -> None:
    migrate(OLD_HEAD)
    old = old_models()
    user_model = old.get_model("accounts_app", "User")
    content_type = old.get_model("contenttypes", "ContentType")
    permission = old.get_model("auth", "Permission")
    log_entry = old.get_model("admin", "LogEntry")

    owner = user_model.objects.create(username="mover", email="mover@example.com")
    credential = old.get_model("executions_app", "Credential").objects.create(
        owner=owner, name="API_TOKEN", encrypted_value="gAAAA-token"
    )
    record = old.get_model("executions_app", "Record").objects.create(
        owner=owner, collection="tickets", data={"title": "moved"}
    )
    credential_type, _ = content_type.objects.get_or_create(app_label="executions_app", model="credential")
    record_type, _ = content_type.objects.get_or_create(app_label="executions_app", model="record")
    permission.objects.get_or_create(
        content_type=credential_type, codename="view_credential", defaults={"name": "Can view credential"}
    )
    log_entry.objects.create(
        user=owner, content_type=credential_type, object_id=str(credential.pk), object_repr="API_TOKEN", action_flag=1
    )

    migrate(new_head())

    moved_credential = Credential.objects.get(pk=credential.pk)
    assert (moved_credential.owner_id, moved_credential.name) == (owner.pk, "API_TOKEN")
    assert Record.objects.get(pk=record.pk).data == {"title": "moved"}
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Credential).pk == credential_type.pk
    assert ContentType.objects.get_for_model(Record).pk == record_type.pk
    assert not ContentType.objects.filter(app_label="executions_app", model__in=["credential", "record"]).exists()
    assert Permission.objects.filter(content_type_id=credential_type.pk, codename="view_credential").exists()
    history = LogEntry.objects.get(object_id=str(credential.pk))
    assert history.get_edited_object() == moved_credential
    assert connection.introspection.table_names().count("executions_app_credential") == 1
