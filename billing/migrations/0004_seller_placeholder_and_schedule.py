"""A placeholder seller profile (so a fresh install can close a month) and the beat schedule.

Finance replaces the placeholder in the admin (Seller profiles); a system check warns while
it is in force. The schedule is editable in the admin (Periodic tasks).
"""

from datetime import date

from django.conf import settings
from django.db import migrations

PLACEHOLDER_NAME = "（请在管理后台填写销售方信息）Procurement Center"


def forwards(apps, schema_editor):
    SellerProfile = apps.get_model("billing", "SellerProfile")
    if not SellerProfile.objects.exists():
        SellerProfile.objects.create(
            effective_from=date(2020, 1, 1),
            name=PLACEHOLDER_NAME,
            tax_id="",
            province_code="31",
            address="",
            phone="",
            bank_name="",
            bank_account="",
            issuing_clerk="",
        )
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    tz = settings.BILLING_TIME_ZONE
    monthly, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_month="1", month_of_year="*", day_of_week="*", timezone=tz
    )
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="6", day_of_month="*", month_of_year="*", day_of_week="*", timezone=tz
    )
    PeriodicTask.objects.get_or_create(
        name="Month close (月结)", defaults={"task": "billing.tasks.month_close", "crontab": monthly}
    )
    PeriodicTask.objects.get_or_create(
        name="Mark overdue bills and remind", defaults={"task": "billing.tasks.bills_mark_overdue", "crontab": daily}
    )
    PeriodicTask.objects.get_or_create(
        name="Create usage partitions ahead", defaults={"task": "billing.tasks.usage_partitions_ahead", "crontab": daily}
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_bills_payments_seller"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
