"""Beat schedule for budgets, alert delivery retries and anomaly scans (editable in the admin)."""

from django.db import migrations


def forwards(apps, schema_editor):
    """Now procurement/schedule.py, created after every migrate (procurement.apps.sync_beat_schedule)."""


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_budgets_alerts"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
