"""The idempotency ledger keyed by a 16-byte key derived from the request id.

``key = md5(request_id)::uuid`` (see billing.models.UsageRequest): the primary key moves
from the variable-length id to this fixed-width key; the id stays, unindexed.
"""

from django.db import migrations, models

FORWARD = """
ALTER TABLE billing_usagerequest ADD COLUMN key uuid;
UPDATE billing_usagerequest SET key = md5(request_id)::uuid;
ALTER TABLE billing_usagerequest DROP CONSTRAINT billing_usagerequest_pkey;
ALTER TABLE billing_usagerequest ALTER COLUMN key SET NOT NULL;
ALTER TABLE billing_usagerequest ADD CONSTRAINT billing_usagerequest_pkey PRIMARY KEY (key);
"""
BACKWARD = """
ALTER TABLE billing_usagerequest DROP CONSTRAINT billing_usagerequest_pkey;
ALTER TABLE billing_usagerequest ADD CONSTRAINT billing_usagerequest_pkey PRIMARY KEY (request_id);
ALTER TABLE billing_usagerequest DROP COLUMN key;
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_rollup_fillfactor")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.AlterField(
                    model_name="usagerequest",
                    name="request_id",
                    field=models.CharField(db_collation="C", max_length=128),
                ),
                migrations.AddField(
                    model_name="usagerequest",
                    name="key",
                    field=models.UUIDField(default=None, editable=False, primary_key=True, serialize=False),
                    preserve_default=False,
                ),
            ],
        )
    ]
