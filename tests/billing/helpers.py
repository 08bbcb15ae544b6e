"""Records and sums shared by the metering tests (prices and times: tests/factories.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from billing.metering.ingest import BatchResult, usage_ingest_batch
from tests.factories import SHANGHAI, shanghai  # noqa: F401 (re-exported; built in tests/factories.py)
from tests.factories import price_version as price  # noqa: F401 (re-exported)

INGEST_URL = "/api/v1/usage-records/"
OMIT = object()


def usage(key_id: str, request_id: str, /, **fields: Any) -> dict[str, Any]:
    """One gateway record (gpt-4o, 1000 in / 200 cached / 100 out, 2026-10-15 10:00 Shanghai);
    a field given as OMIT is left out."""
    record: dict[str, Any] = {
        "request_id": request_id,
        "key_id": key_id,
        "model": "gpt-4o",
        "input_tokens": 1000,
        "cached_input_tokens": 200,
        "output_tokens": 100,
        "occurred_at": "2026-10-15T10:00:00+08:00",
    }
    record.update(fields)
    return {name: value for name, value in record.items() if value is not OMIT}


def ingest(records: list[Any], now: datetime | None = None) -> BatchResult:
    return usage_ingest_batch(records=records, now=now)


def _fetch(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def record_totals() -> dict[tuple[int, date], tuple[int, int, int, int, Decimal]]:
    """(customer, period) → (requests, input, cached, output, cost) summed over the records."""
    rows = _fetch(
        """
        SELECT customer_id, period, count(*), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens),
            coalesce(sum(cost), 0)
        FROM billing_usagerecord GROUP BY customer_id, period
        """
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def rollup_totals() -> dict[tuple[int, date], tuple[int, int, int, int, Decimal]]:
    """The same sums over the daily rollups."""
    rows = _fetch(
        """
        SELECT customer_id, period, sum(requests), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens),
            sum(cost)
        FROM billing_usagerollup GROUP BY customer_id, period
        """
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def rollup_rows() -> list[tuple]:
    """Every rollup row's key and sums, in key order (for "nothing changed" checks)."""
    return _fetch(
        """
        SELECT customer_id, project_id, api_key_id, provider, model, price_version_id, currency, day, period,
            bill_period, requests, input_tokens, cached_input_tokens, output_tokens, cost
        FROM billing_usagerollup
        ORDER BY customer_id, project_id, api_key_id, provider, model, price_version_id NULLS FIRST, day, bill_period
        """
    )


def record_rows() -> list[tuple]:
    """Every stored record, without ids and receive times, in request_id order."""
    return _fetch(
        """
        SELECT request_id, customer_id, project_id, api_key_id, provider, model, input_tokens, cached_input_tokens,
            output_tokens, occurred_at, day, period, bill_period, price_version_id, currency, cost
        FROM billing_usagerecord ORDER BY request_id
        """
    )


def usage_tables_clear() -> None:
    """Forget all usage (records, ledger, rollups, quarantine)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_usagerecord")
        cursor.execute("DELETE FROM billing_usagerequest")
        cursor.execute("DELETE FROM billing_usagerollup")
        cursor.execute("DELETE FROM billing_quarantinedrecord")
