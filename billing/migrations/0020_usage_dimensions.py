"""Usage records and daily rollups carry every count of CONTRACT.md "Price dimensions".

billing_usagerecord (partitioned, unmanaged): ten nullable count columns (NULL = 0: the
common record pays one bit each, not eight bytes) and the price context (``processing``,
``service_tier``) and its ``variant`` (NULL = the default, ``standard``). ALTER TABLE on the parent adds them to every
partition, and partitions created later inherit them.

billing_usagerollup: the same counts as sums (0 by default) and ``variant`` in its unique
key, so a day's rows grow with the variants used, not with records.
"""

from django.db import migrations, models

UNIT_FIELDS = (
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "cache_audio_read_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "output_image_tokens",
    "output_reasoning_tokens",
    "web_searches",
)

RECORD_ADD = "ALTER TABLE billing_usagerecord " + ", ".join(
    [f"ADD COLUMN {name} bigint" for name in UNIT_FIELDS]
    + ["ADD COLUMN processing varchar(10)", "ADD COLUMN service_tier varchar(20)", "ADD COLUMN variant varchar(50)"]
)
RECORD_DROP = "ALTER TABLE billing_usagerecord " + ", ".join(
    f"DROP COLUMN {name}" for name in (*UNIT_FIELDS, "processing", "service_tier", "variant")
)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0019_price_maps"),
    ]

    operations = [
        migrations.RunSQL(
            RECORD_ADD,
            RECORD_DROP,
            state_operations=[
                *[migrations.AddField("usagerecord", name, models.BigIntegerField(null=True)) for name in UNIT_FIELDS],
                migrations.AddField("usagerecord", "processing", models.CharField(max_length=10, null=True)),
                migrations.AddField("usagerecord", "service_tier", models.CharField(max_length=20, null=True)),
                migrations.AddField("usagerecord", "variant", models.CharField(max_length=50, null=True)),
            ],
        ),
        *[migrations.AddField("usagerollup", name, models.BigIntegerField(default=0)) for name in UNIT_FIELDS],
        migrations.AddField(
            "usagerollup", "variant", models.CharField(db_collation="C", default="standard", max_length=50)
        ),
        migrations.RemoveConstraint("usagerollup", "usage_rollup_key"),
        migrations.AddConstraint(
            "usagerollup",
            models.UniqueConstraint(
                fields=(
                    "customer",
                    "project",
                    "api_key",
                    "provider",
                    "model",
                    "price_version",
                    "variant",
                    "day",
                    "bill_period",
                ),
                name="usage_rollup_key",
                nulls_distinct=False,
            ),
        ),
    ]
