"""Room on each rollup page for the next version of its rows.

Ingestion adds to rollup rows in place (INSERT … ON CONFLICT DO UPDATE). An update that finds
room on the row's own page is a HOT update: no index is touched. On a full page (PostgreSQL
fills pages completely by default) the update goes elsewhere and writes an entry into every
index. Measured on PostgreSQL 18 (60,000 rollup rows, batches of ~2,000 upserts): the first
round of updates 10.3 µs per row at the default fillfactor, 8.2–8.3 µs at 70–85; later rounds
about 8.3–8.6 µs either way.
Applies to pages written from now on.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0010_c_collation_for_hot_keys")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE billing_usagerollup SET (fillfactor = 80)",
            "ALTER TABLE billing_usagerollup RESET (fillfactor)",
        )
    ]
