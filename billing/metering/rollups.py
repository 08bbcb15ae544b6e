"""What every writer of the daily rollups shares: the usage lock, the columns and the merge of sums."""

from __future__ import annotations

from billing.pricing.cost import COUNT_FIELDS

USAGE_LOCK_NAMESPACE = 7301  # advisory lock namespace for "customer usage vs. month close"

# The counts a record carries beyond input, cached (cache read) and output tokens
# (CONTRACT.md "Price dimensions"): columns of billing_usagerecord (NULL = 0) and sums of
# billing_usagerollup (migration 0020) — the counts of money rule 2′ (docs/money-rules.md) (billing.pricing.cost) less
# the three every record has its own columns for.
UNIT_FIELDS = tuple(name for name in COUNT_FIELDS if name not in ("input_tokens", "output_tokens", "cache_read_tokens"))

# The rollup's key (its unique constraint usage_rollup_key, in that order) and its sums.
ROLLUP_KEY = (
    "customer_id",
    "project_id",
    "api_key_id",
    "provider",
    "model",
    "price_version_id",
    "variant",
    "day",
    "bill_period",
)
ROLLUP_SUMS = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", *UNIT_FIELDS, "cost")

# Rollup rows from usage records (a SELECT over billing_usagerecord or the staging table):
# the key as the rollup spells it (a record's variant is NULL when standard), what to GROUP BY
# (a standard record's NULL groups alone, so the raw column serves), and the sums in
# ROLLUP_SUMS order.
RECORD_KEY_SQL = ", ".join("coalesce(variant, 'standard') AS variant" if c == "variant" else c for c in ROLLUP_KEY)
RECORD_GROUP_SQL = ", ".join(ROLLUP_KEY)
RECORD_SUMS_SQL = ", ".join(
    [
        "count(*) AS requests",
        "sum(input_tokens) AS input_tokens",
        "sum(cached_input_tokens) AS cached_input_tokens",
        "sum(output_tokens) AS output_tokens",
        *[f"coalesce(sum({name}), 0) AS {name}" for name in UNIT_FIELDS],
        "coalesce(sum(cost), 0) AS cost",
    ]
)

# Adds a batch's sums to existing rollup rows (the INSERT aliases the table as r).
ROLLUP_MERGE = "\nON CONFLICT ON CONSTRAINT usage_rollup_key DO UPDATE SET\n" + ",\n".join(
    f"    {name} = r.{name} + EXCLUDED.{name}" for name in ROLLUP_SUMS
)
