"""Repricing a month's usage after its prices arrive: unpriced rollups move to their price version."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

from billing.metering.rollups import ROLLUP_MERGE, USAGE_LOCK_NAMESPACE
from billing.periods import period_bounds
from billing.pricing.cost import record_cost
from billing.pricing.index import PriceIndex

_ROLLUP_KEY = (
    "customer_id, project_id, api_key_id, provider, model, price_version_id, currency, day, period, bill_period"
)

_ROLLUP_SUMS = (
    "count(*) AS requests, sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens, "
    "sum(output_tokens) AS output_tokens, coalesce(sum(cost), 0) AS cost"
)

# Before repricing: take the records out of their unpriced rollup rows (old provider/model).
UNPRICED_SUBTRACT_SQL = f"""
UPDATE billing_usagerollup r SET
    requests = r.requests - m.requests,
    input_tokens = r.input_tokens - m.input_tokens,
    cached_input_tokens = r.cached_input_tokens - m.cached_input_tokens,
    output_tokens = r.output_tokens - m.output_tokens
FROM (
    SELECT {_ROLLUP_KEY}, {_ROLLUP_SUMS} FROM billing_usagerecord
    WHERE id = ANY(%(ids)s) AND occurred_at >= %(start)s AND occurred_at < %(end)s
    GROUP BY {_ROLLUP_KEY}
) m
WHERE r.price_version_id IS NULL AND r.customer_id = m.customer_id AND r.project_id = m.project_id
    AND r.api_key_id = m.api_key_id AND r.provider = m.provider AND r.model = m.model AND r.day = m.day
    AND r.bill_period = m.bill_period
"""

# After repricing: add them to their priced rollup rows.
PRICED_ADD_SQL = (
    f"""
INSERT INTO billing_usagerollup AS r ({_ROLLUP_KEY}, requests, input_tokens, cached_input_tokens, output_tokens, cost)
SELECT {_ROLLUP_KEY}, {_ROLLUP_SUMS} FROM billing_usagerecord
WHERE id = ANY(%(ids)s) AND occurred_at >= %(start)s AND occurred_at < %(end)s
GROUP BY {_ROLLUP_KEY}
ORDER BY customer_id, project_id, api_key_id, provider, model, price_version_id, day, bill_period
"""
    + ROLLUP_MERGE
)


def usage_reprice(*, period: date, batch_size: int = 5000) -> dict[str, int]:
    """Price the unpriced records of ``period`` whose price now exists; move their rollups.

    Idempotent: a record is repriced once (it stops being unpriced); running again finds
    nothing new. Each chunk is one transaction, so an interruption loses nothing.
    """
    start, end = period_bounds(period)
    repriced = still_unpriced = 0
    last_id = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT id, customer_id, provider, model, input_tokens, cached_input_tokens, output_tokens, occurred_at
                FROM billing_usagerecord
                WHERE price_version_id IS NULL AND occurred_at >= %s AND occurred_at < %s AND id > %s
                ORDER BY id LIMIT %s FOR UPDATE
                """,
                [start, end, last_id, batch_size],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            index = PriceIndex({row[3] for row in rows})
            updates = []
            for rid, _customer, provider, model, inp, cached, out, occurred_at in rows:
                resolved = index.resolve(provider, model)
                price = index.price_at(*resolved, occurred_at) if resolved else None
                if price is None:
                    still_unpriced += 1
                    continue
                cost = record_cost(price, inp, cached, out)
                updates.append((resolved[0], resolved[1], price.id, price.currency, cost, rid, start, end))
            if not updates:
                continue
            for customer_id in sorted({row[1] for row in rows}):
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [USAGE_LOCK_NAMESPACE, customer_id])
            params = {"ids": [u[5] for u in updates], "start": start, "end": end}
            cursor.execute(UNPRICED_SUBTRACT_SQL, params)
            cursor.executemany(
                "UPDATE billing_usagerecord SET provider = %s, model = %s, price_version_id = %s, currency = %s, "
                "cost = %s WHERE id = %s AND occurred_at >= %s AND occurred_at < %s",
                updates,
            )
            cursor.execute(PRICED_ADD_SQL, params)
            cursor.execute("DELETE FROM billing_usagerollup WHERE price_version_id IS NULL AND requests = 0")
            repriced += len(updates)
    return {"repriced": repriced, "unpriced": still_unpriced}
