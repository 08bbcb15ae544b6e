"""Beat schedule for budgets, alert delivery retries and anomaly scans (editable in the admin)."""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    every_10, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="7", day_of_month="*", month_of_year="*", day_of_week="*", timezone=settings.BILLING_TIME_ZONE
    )
    PeriodicTask.objects.get_or_create(
        name="Evaluate budgets", defaults={"task": "billing.tasks.budgets_evaluate_all", "interval": every_5}
    )
    PeriodicTask.objects.get_or_create(
        name="Retry pending alert deliveries", defaults={"task": "billing.tasks.alerts_retry_pending", "interval": every_10}
    )
    PeriodicTask.objects.get_or_create(
        name="Scan yesterday for anomalies", defaults={"task": "billing.tasks.anomalies_scan", "crontab": daily}
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_budgets_alerts"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
