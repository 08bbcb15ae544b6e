"""Repricing a month's usage after its prices arrive: unpriced rollups move to their price version."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

from billing.metering.rollups import (
    RECORD_GROUP_SQL,
    RECORD_KEY_SQL,
    RECORD_SUMS_SQL,
    ROLLUP_KEY,
    ROLLUP_MERGE,
    ROLLUP_SUMS,
    UNIT_FIELDS,
    USAGE_LOCK_NAMESPACE,
)
from billing.periods import period_bounds
from billing.pricing.cost import exact_context, price_plan
from billing.pricing.index import PriceIndex

_RECORD_GROUPS = f"""
    SELECT {RECORD_KEY_SQL}, currency, period, {RECORD_SUMS_SQL} FROM billing_usagerecord
    WHERE id = ANY(%(ids)s) AND occurred_at >= %(start)s AND occurred_at < %(end)s
    GROUP BY {RECORD_GROUP_SQL}, currency, period
"""
# The selected counts by the names money rule 2′ (docs/money-rules.md) gives them.
_PLAN_COUNTS = ("input_tokens", "cache_read_tokens", "output_tokens", *UNIT_FIELDS)

# Before repricing: take the records out of their unpriced rollup rows (old provider/model).
UNPRICED_SUBTRACT_SQL = f"""
UPDATE billing_usagerollup r SET
    {", ".join(f"{name} = r.{name} - m.{name}" for name in ROLLUP_SUMS if name != "cost")}
FROM ({_RECORD_GROUPS}) m
WHERE r.price_version_id IS NULL AND r.customer_id = m.customer_id AND r.project_id = m.project_id
    AND r.api_key_id = m.api_key_id AND r.provider = m.provider AND r.model = m.model AND r.day = m.day
    AND r.bill_period = m.bill_period AND r.variant = m.variant
"""

# After repricing: add them to their priced rollup rows.
PRICED_ADD_SQL = (
    f"""
INSERT INTO billing_usagerollup AS r ({", ".join(ROLLUP_KEY)}, currency, period, {", ".join(ROLLUP_SUMS)})
{_RECORD_GROUPS}
ORDER BY {RECORD_GROUP_SQL}
"""
    + ROLLUP_MERGE
)

_SELECT_UNPRICED = f"""
SELECT id, customer_id, provider, model, occurred_at, processing, service_tier, input_tokens, cached_input_tokens,
    output_tokens, {", ".join(UNIT_FIELDS)}
FROM billing_usagerecord
WHERE price_version_id IS NULL AND occurred_at >= %s AND occurred_at < %s AND id > %s
ORDER BY id LIMIT %s FOR UPDATE
"""


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
            cursor.execute(_SELECT_UNPRICED, [start, end, last_id, batch_size])
            rows = cursor.fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            index = PriceIndex({row[3] for row in rows})
            updates = []
            with exact_context():
                for rid, _customer, provider, model, occurred_at, processing, service_tier, *numbers in rows:
                    resolved = index.resolve(provider, model)
                    price = index.price_at(*resolved, occurred_at) if resolved else None
                    cost = None
                    if price is not None:
                        # Money rule 2′ with the stored counts and context, as ingestion prices.
                        counts = dict(zip(_PLAN_COUNTS, numbers, strict=True))
                        cost = price_plan(price).cost(
                            {name: value for name, value in counts.items() if value},
                            occurred_at,
                            processing or "standard",
                            service_tier or "default",
                        )
                    if cost is None:
                        still_unpriced += 1
                        continue
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
