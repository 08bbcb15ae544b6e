"""Monthly partitions of billing_usagerecord, in Asia/Shanghai months, created on demand."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from billing.metering.partitions import ensure_partitions, ensure_partitions_around, forget_known, partition_name
from billing.models import UsageRecord, UsageRollup
from tests.billing.helpers import ingest, usage

pytestmark = pytest.mark.django_db


def partitions() -> dict[str, str]:
    """Partition name → its bounds, as PostgreSQL states them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'billing_usagerecord'
            """
        )
        return dict(cursor.fetchall())


def partition_of(request_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM billing_usagerecord WHERE request_id = %s", [request_id])
        return cursor.fetchone()[0]


def test_it_names_partitions_by_month():
    assert partition_name(date(2026, 11, 1)) == "billing_usagerecord_p202611"
    assert partition_name(date(2021, 3, 1)) == "billing_usagerecord_p202103"


def test_it_creates_the_partition_of_an_old_month_on_demand(acme_key, gpt4o):
    assert "billing_usagerecord_p202103" not in partitions()

    result = ingest([usage(acme_key.key_id, "old", occurred_at="2021-03-15T10:00:00+08:00")])

    assert result.accepted == 1
    assert partition_of("old") == "billing_usagerecord_p202103"
    # the month in Shanghai: from 2021-03-01 00:00 +08:00 to 2021-04-01 00:00 +08:00
    assert partitions()["billing_usagerecord_p202103"] == (
        "FOR VALUES FROM ('2021-02-28 16:00:00+00') TO ('2021-03-31 16:00:00+00')"
    )
    assert UsageRollup.objects.get().period == date(2021, 3, 1)


def test_it_puts_the_first_shanghai_instant_of_a_month_in_that_months_partition(acme_key, gpt4o):
    ingest(
        [
            usage(acme_key.key_id, "last", occurred_at="2021-03-31T15:59:59.999999Z"),
            usage(acme_key.key_id, "first", occurred_at="2021-03-31T16:00:00Z"),
        ]
    )

    assert partition_of("last") == "billing_usagerecord_p202103"
    assert partition_of("first") == "billing_usagerecord_p202104"
    assert UsageRecord.objects.get(request_id="first").period == date(2021, 4, 1)


def test_it_creates_partitions_once(db):
    ensure_partitions([date(2021, 5, 1), date(2021, 5, 1), date(2021, 6, 1)])
    forget_known()  # as another process would: it finds them and creates nothing

    ensure_partitions([date(2021, 5, 1), date(2021, 6, 1)])

    names = [name for name in partitions() if name.startswith("billing_usagerecord_p20210")]
    assert sorted(names) == ["billing_usagerecord_p202105", "billing_usagerecord_p202106"]


def test_it_creates_partitions_around_a_day(db):
    labels = ensure_partitions_around(date(2022, 1, 15), months_back=1, months_ahead=1)

    assert labels == ["2021-12", "2022-01", "2022-02"]
    assert {"billing_usagerecord_p202112", "billing_usagerecord_p202201", "billing_usagerecord_p202202"} <= set(
        partitions()
    )


def test_it_keeps_the_usage_table_partitioned_by_occurred_at(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_partkeydef('billing_usagerecord'::regclass)")
        assert cursor.fetchone()[0] == "RANGE (occurred_at)"


def indexes_of(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0].split(" USING ", 1)[1] for row in cursor.fetchall()}


def test_the_write_heavy_usage_tables_carry_only_the_indexes_their_reads_need():
    # The ledger: its primary key alone, the 16-byte key derived from the request id.
    assert indexes_of("billing_usagerequest") == {"btree (key)"}
    # The records: the partition key's primary key and the partial index for repricing.
    assert indexes_of("billing_usagerecord") == {
        "btree (id, occurred_at)",
        "btree (customer_id, period) WHERE (price_version_id IS NULL)",
        # The records behind a bill line or a summary row, streamed in time order (one
        # customer's month; migration 0024_usagerecord_customer_time_index).
        "btree (customer_id, occurred_at)",
    }
