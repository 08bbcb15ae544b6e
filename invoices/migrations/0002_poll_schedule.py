"""Beat: ask a provider backend about pending invoices every 2 minutes (no-op for local/manual)."""

from django.db import migrations


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_2, _ = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Poll pending invoices at the issuing platform",
        defaults={"task": "invoices.tasks.invoices_poll_pending", "interval": every_2},
    )


class Migration(migrations.Migration):
    dependencies = [("invoices", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
