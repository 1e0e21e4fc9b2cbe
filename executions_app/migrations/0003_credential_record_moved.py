# Credential and Record now belong to credentials_app and records_app, which took them
# over with their tables (state only: nothing in the database changes here).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("executions_app", "0002_credential_record"),
        ("credentials_app", "0001_initial"),
        ("records_app", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Credential"), migrations.DeleteModel(name="Record")],
            database_operations=[],
        ),
    ]
