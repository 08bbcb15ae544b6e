"""Half of each new rollup page kept free, so that ingestion's updates stay HOT.

Ingestion adds every batch to its rollup rows in place (INSERT … ON CONFLICT DO UPDATE). An
update that finds room on the row's own page is a HOT update: no index is touched, and the
table has seven. With every price dimension a row is wider, and at fillfactor 80 (migration
0011) a row updated again before its page was pruned no longer fits: measured for issue 20
(bench workload, batches of 2,000, ~1,860 rollup rows per batch of which ~1,350 updates) only
42 % of the updates were HOT at 80, 58 % at 70, 92 % at 50 (100 % at 35, for a third more
pages than 50). PostgreSQL CPU per ingested record fell from 35–35.5 µs to 29–31 µs at 50;
the rollup upsert wrote ~7 WAL records per updated row before (heap and every index), ~4 after.
The table grows with customers × models × variants × days, not records, so the room is cheap.
Applies to pages written from now on (no rewrite, no lock beyond the ALTER's).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0023_bill_line_variant_and_units")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE billing_usagerollup SET (fillfactor = 50)",
            "ALTER TABLE billing_usagerollup SET (fillfactor = 80)",
        )
    ]
