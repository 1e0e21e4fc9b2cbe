# The Credential model moves here from executions_app. Its table keeps its name and rows
# (state only), and its ContentType row follows it, so its permissions and admin history
# stay attached.

import uuid

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, source, target, model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
        return  # nothing to move (a database made after the move)
    ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def forward(apps, schema_editor):
    move_content_type(apps, schema_editor, source="executions_app", target="credentials_app", model="credential")


def backward(apps, schema_editor):
    move_content_type(apps, schema_editor, source="credentials_app", target="executions_app", model="credential")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("executions_app", "0002_credential_record"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Credential",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        (
                            "name",
                            models.CharField(
                                max_length=64,
                                validators=[django.core.validators.RegexValidator("^[A-Za-z_][A-Za-z0-9_]{0,63}$")],
                            ),
                        ),
                        ("description", models.CharField(blank=True, default="", max_length=500)),
                        ("encrypted_value", models.TextField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="credentials",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "executions_app_credential",
                        "ordering": ["name"],
                        "constraints": [models.UniqueConstraint(fields=("owner", "name"), name="credential_unique_name")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forward, backward),
    ]
