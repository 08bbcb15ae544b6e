"""Beat: ask a provider backend about pending invoices every 2 minutes (no-op for local/manual)."""

from django.db import migrations


def forwards(apps, schema_editor):
    """Now procurement/schedule.py, created after every migrate (procurement.apps.sync_beat_schedule)."""


class Migration(migrations.Migration):
    dependencies = [("invoices", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
