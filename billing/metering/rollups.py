"""What every writer of the daily rollups shares: the usage lock and the merge of sums."""

from __future__ import annotations

USAGE_LOCK_NAMESPACE = 7301  # advisory lock namespace for "customer usage vs. month close"

# Adds a batch's sums to existing rollup rows (the INSERT aliases the table as r).
ROLLUP_MERGE = """
ON CONFLICT ON CONSTRAINT usage_rollup_key DO UPDATE SET
    requests = r.requests + EXCLUDED.requests,
    input_tokens = r.input_tokens + EXCLUDED.input_tokens,
    cached_input_tokens = r.cached_input_tokens + EXCLUDED.cached_input_tokens,
    output_tokens = r.output_tokens + EXCLUDED.output_tokens,
    cost = r.cost + EXCLUDED.cost
"""
