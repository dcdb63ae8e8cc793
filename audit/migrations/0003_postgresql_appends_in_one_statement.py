from django.db import migrations


def forwards(apps, schema_editor):
    # PostgreSQL now moves the chain head in the appending statement itself
    # (audit.services._append_postgresql); the trigger would update the same
    # row twice. SQLite keeps its trigger.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS audit_event_move_head ON audit_auditevent;"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_event_move_head();")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from audit import triggers

        for statement in triggers.POSTGRES_CREATE[2:]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_triggers")]

    operations = [migrations.RunPython(forwards, backwards)]
