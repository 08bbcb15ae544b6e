"""A placeholder seller profile (so a fresh install can close a month) and the beat schedule.

Finance replaces the placeholder in the admin (Seller profiles); a system check warns while
it is in force. The schedule is editable in the admin (Periodic tasks).
"""

from datetime import date

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
    # The beat schedule that was created here is declared in procurement/schedule.py and
    # created after every migrate (procurement.apps.sync_beat_schedule).


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_bills_payments_seller"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
