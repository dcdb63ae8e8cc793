from django.db import migrations

from audit import triggers


def forwards(apps, schema_editor):
    triggers.create(schema_editor)


def backwards(apps, schema_editor):
    triggers.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
