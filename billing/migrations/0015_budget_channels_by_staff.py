from django.db import migrations, models


def mark_staff_budgets(apps, schema_editor):
    """Budgets kept before this field were held to no customer rule: those a portal user did
    not create (the admin, the finance API, seeds) keep sending wherever staff pointed them."""
    Budget = apps.get_model("billing", "Budget")
    Budget.objects.exclude(created_by__portal__isnull=False).update(channels_by_staff=True)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_payment_reference_key"),
        ("customers", "0003_printed_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="budget",
            name="channels_by_staff",
            field=models.BooleanField(
                default=False,
                help_text="Set by our staff: any apprise URL is sent to. A customer's are checked before each send.",
                verbose_name="channels set by staff",
            ),
        ),
        migrations.RunPython(mark_staff_budgets, migrations.RunPython.noop),
    ]
