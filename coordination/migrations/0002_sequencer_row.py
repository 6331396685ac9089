from __future__ import annotations

from django.db import migrations


def create_row(apps, schema_editor):  # type: ignore[no-untyped-def]
    Sequencer = apps.get_model("coordination", "Sequencer")
    Sequencer.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("coordination", "0001_initial")]
    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
