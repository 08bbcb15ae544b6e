"""The idempotency ledger keeps one index: its primary key.

Django gives every varchar primary key a second, ``varchar_pattern_ops`` index for
``LIKE 'prefix%'`` lookups. Nothing looks request ids up by prefix, and on this table —
random keys, one insert per accepted call — that second index doubled the write cost of
claiming a batch and the memory the ledger needs to stay fast as it grows (bench/ingest.py).
"""

from django.db import migrations

DROP = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN
        SELECT i.relname FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = 'billing_usagerequest' AND NOT x.indisprimary AND right(i.relname, 5) = '_like'
    LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;
"""
RESTORE = (
    "CREATE INDEX IF NOT EXISTS billing_usagerequest_request_id_like "
    "ON billing_usagerequest (request_id varchar_pattern_ops)"
)


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_rollup_lean_keys")]

    operations = [migrations.RunSQL(DROP, RESTORE)]
