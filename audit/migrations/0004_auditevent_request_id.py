from django.db import migrations, models

TABLE = "audit_auditevent"


def _field() -> models.CharField:
    field = models.CharField(max_length=64, blank=True, default="")
    field.set_attributes_from_name("request_id")
    return field


def forwards(apps, schema_editor):
    # On SQLite Django adds a NOT NULL column by rebuilding the table, which
    # copies every event and drops the append-only triggers with the old
    # table. SQLite's own ADD COLUMN with a constant default touches no row
    # and keeps them. PostgreSQL adds the column without rewriting rows, so
    # no UPDATE trigger fires: Django's way is fine there.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD COLUMN request_id varchar(64) NOT NULL DEFAULT ''"
        )
    else:
        schema_editor.add_field(apps.get_model("audit", "AuditEvent"), _field())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN request_id")
    else:
        schema_editor.remove_field(apps.get_model("audit", "AuditEvent"), _field())


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_postgresql_appends_in_one_statement")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddField(
                    model_name="auditevent",
                    name="request_id",
                    field=models.CharField(
                        blank=True,
                        default="",
                        max_length=64,
                        verbose_name="identifiant de requête",
                    ),
                ),
            ],
        ),
    ]
