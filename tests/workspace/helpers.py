"""A November 2026 with usage, closed bills and the providers' exports, worked out by hand.

Prices (USD per 1M tokens, list): gpt-4o 2.5 in / 10 out; gpt-4o-mini 0.15 in;
claude-sonnet-4 3 in / 15 out. USD 2026-11 at 7.1 CNY. No discounts.

Our metering (Shanghai noon, the same date in UTC):
- ACME   gpt-4o         11-10  1,000,000 in / 100,000 out → $3.50  → ¥24.85
- BEIDOU gpt-4o         11-10  3,000,000 in / 300,000 out → $10.50 → ¥74.55
- ACME   gpt-4o-mini    11-10  1,000,000 in               → $0.15  → ¥1.065 → ¥1.07
- ACME   claude-sonnet-4 11-11 1,000,000 in / 100,000 out → $4.50  → ¥31.95

What the providers charge us (exports):
- gpt-4o: $9.00 on 11-10 and $1.00 on 11-11 (a day we metered none: unallocated) → $10 → ¥71.00
- gpt-4o-mini: $0.10 on 11-10 → ¥0.71
- claude-sonnet-4: "300.00" cents on 11-11 → $3.00 → ¥21.30

The provider's usage: gpt-4o 4,020,000 in / 400,000 out (ours is 0.50 % lower: agrees);
gpt-4o-mini 1,020,000 in (ours is 1.96 % lower: disagrees).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from billing.models import ModelAlias
from tests.billing.close_helpers import (
    NOV,
    claude_price,
    close,
    customer_with_contract,
    ingest,
    key_for,
    price,
    rate,
    record,
    shanghai,
    travel,
)
from workspace.services import provider_costs_import


def unix(day: int) -> int:
    return int(datetime(2026, 11, day, tzinfo=UTC).timestamp())


def openai_costs(*items: tuple[int, str, str]) -> bytes:
    """A Costs API answer from (day, line item, USD value) items, one bucket per day."""
    days = sorted({day for day, _item, _value in items})
    buckets = [
        {
            "object": "bucket",
            "start_time": unix(day),
            "end_time": unix(day) + 86400,
            "results": [
                {
                    "object": "organization.costs.result",
                    "amount": {"value": json.loads(value), "currency": "usd"},
                    "line_item": item,
                    "project_id": "proj_main",
                }
                for d, item, value in items
                if d == day
            ],
        }
        for day in days
    ]
    return json.dumps({"object": "page", "data": buckets, "has_more": False, "next_page": None}).encode()


def openai_usage(*items: tuple[int, str, int, int]) -> bytes:
    """A completions usage answer from (day, model, input, output) items."""
    buckets = [
        {
            "object": "bucket",
            "start_time": unix(day),
            "end_time": unix(day) + 86400,
            "results": [
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": i,
                    "output_tokens": o,
                    "input_cached_tokens": 0,
                    "num_model_requests": 1,
                    "model": model,
                }
            ],
        }
        for day, model, i, o in items
    ]
    return json.dumps({"object": "page", "data": buckets, "has_more": False}).encode()


def anthropic_costs(*items: tuple[int, str, str]) -> bytes:
    """A cost report from (day, model, amount in cents as a string) items."""
    buckets = [
        {
            "starting_at": f"2026-11-{day:02d}T00:00:00Z",
            "ending_at": f"2026-11-{day + 1:02d}T00:00:00Z",
            "results": [{"currency": "USD", "amount": cents, "model": model, "cost_type": "tokens"}],
        }
        for day, model, cents in items
    ]
    return json.dumps({"data": buckets, "has_more": False, "next_page": None}).encode()


def november_usage(*, close_beidou: bool = True):
    """The metering and bills above; returns (acme, beidou)."""
    price()
    price("gpt-4o-mini", input="0.15", cached="0.075", output="0.6")
    claude_price()
    rate(NOV, "7.1")
    ModelAlias.objects.create(provider="openai", alias="gpt-4o-2024-08-06", model="gpt-4o")
    ModelAlias.objects.create(provider="openai", alias="gpt-4o-mini-2024-07-18", model="gpt-4o-mini")
    ModelAlias.objects.create(provider="anthropic", alias="claude-sonnet-4-20250514", model="claude-sonnet-4")
    acme = customer_with_contract("ACME", "上海阿克米信息技术有限公司")
    beidou = customer_with_contract("BEIDOU", "北京北斗星辰科技有限公司")
    acme_key, beidou_key = key_for(acme), key_for(beidou)
    ingest(
        record(acme_key, input=1_000_000, output=100_000, at=shanghai(2026, 11, 10, 12)),
        record(beidou_key, input=3_000_000, output=300_000, at=shanghai(2026, 11, 10, 12)),
        record(acme_key, model="gpt-4o-mini", input=1_000_000, at=shanghai(2026, 11, 10, 12)),
        record(acme_key, model="claude-sonnet-4", input=1_000_000, output=100_000, at=shanghai(2026, 11, 11, 12)),
        now=shanghai(2026, 11, 20),
    )
    with travel(2026, 12, 1, 1):
        close(acme)
        if close_beidou:
            close(beidou)
    return acme, beidou


def provider_exports(actor=None) -> None:
    provider_costs_import(
        provider="openai",
        file_name="costs-2026-11.json",
        content=openai_costs(
            (10, "gpt-4o-2024-08-06, input", "6.0"),
            (10, "gpt-4o-2024-08-06, output", "3.0"),
            (11, "gpt-4o-2024-08-06, input", "1.0"),
            (10, "gpt-4o-mini-2024-07-18, input", "0.1"),
        ),
        actor=actor,
    )
    provider_costs_import(
        provider="openai",
        file_name="usage-2026-11.json",
        content=openai_usage(
            (10, "gpt-4o-2024-08-06", 4_020_000, 400_000), (10, "gpt-4o-mini-2024-07-18", 1_020_000, 0)
        ),
        actor=actor,
    )
    provider_costs_import(
        provider="anthropic",
        file_name="cost_report-2026-11.json",
        content=anthropic_costs((11, "claude-sonnet-4-20250514", "300.00")),
        actor=actor,
    )
