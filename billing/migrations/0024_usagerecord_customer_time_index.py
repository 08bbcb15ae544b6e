"""An index for reading one customer's records of one month in time order: the records
behind a bill line or a usage-summary row (billing.metering.record_exports), streamed as CSV.

The reads name the partition key's range (one month of ``occurred_at``), so PostgreSQL reads
one partition, and within it this index gives the customer's records already in time order
(no sort of a million rows). It is created on the partitioned parent: every partition has it,
and partitions created later inherit it. Ingestion pays one more B-tree insert per record,
at the right edge of the customer's range (records arrive in roughly time order).
"""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS billing_usagerecord_customer_time ON billing_usagerecord (customer_id, occurred_at)"
DROP = "DROP INDEX IF EXISTS billing_usagerecord_customer_time"


class Migration(migrations.Migration):
    dependencies = [("billing", "0023_bill_line_variant_and_units")]

    operations = [migrations.RunSQL(CREATE, DROP)]
