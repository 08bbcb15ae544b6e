"""Half of each new rollup page kept free, so that ingestion's updates stay HOT.

Ingestion adds every batch to its rollup rows in place (INSERT … ON CONFLICT DO UPDATE). An
update that finds room on the row's own page is a HOT update: no index is touched (the table
has seven). Room is made by pruning the row's dead versions, which PostgreSQL may do only
once no open snapshot can see them: while concurrent batches, a month close or a long report
hold snapshots, each update needs fresh room, and at fillfactor 80 (migration 0011) a page
has room for about a fifth of its rows' next versions. Measured for issue 20 (bench workload,
batches of 2,000 spread over ~1,860 rollup rows each, ~1,350 of them updates):
in-process, one client: 42 % of updates HOT at 80, 58 % at 70, 92 % at 50, 100 % at 35, and
PostgreSQL CPU per record 35–35.5 µs at 80 vs 29–31 µs at 50 (interleaved runs); the
HTTP bench (2 clients, --quick): 90.5 % HOT at 80, 100 % at 50, the rollup table 45 MB → 72 MB
(with 200,000 prefilled rows). tests/billing/test_ingest_rollup_pages.py pins the worst case
(no pruning possible: every row's next version fits on its page).
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
