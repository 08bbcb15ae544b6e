"""Bill lines per project × model × variant with their units (CONTRACT.md "Price dimensions" →
"Bills and summaries"; issue 20 items 4 and 7)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.bills.lines import build_lines
from billing.models import BillLine
from billing.pricing.services import price_version_set
from tests.billing.close_helpers import (
    NOV,
    close,
    customer_with_contract,
    ingest,
    key_for,
    only,
    rate,
    record,
    shanghai,
)

pytestmark = pytest.mark.django_db

GPT5_PRICES = {"input_mtok": "1.25", "cache_read_mtok": "0.125", "output_mtok": "10", "web_searches_kcount": "10"}
GPT5_BATCH = {"when": {"processing": "batch"}, "prices": {"input_mtok": "0.625", "output_mtok": "5"}}
GPT5_FLEX = {"when": {"service_tier": "flex"}, "prices": {"input_mtok": "0.625", "output_mtok": "5"}}


def gpt5():
    version, _created = price_version_set(
        provider="openai",
        model="gpt-5",
        effective_from=shanghai(2026, 1, 1),
        currency="USD",
        prices=GPT5_PRICES,
        variants=[GPT5_FLEX, GPT5_BATCH],
    )
    return version


def test_a_line_per_variant_standard_first_with_its_units():
    """gpt-5 at USD 7 (no discount):
    standard: 1,000,000 input × 1.25 + 100,000 output × 10 = 1.25 + 1 = 2.25 USD, plus
              3 web searches × 10 / 1,000 = 0.03 → 2.28 USD × 7 = 15.96 CNY
    batch:    2,000,000 × 0.625 + 200,000 × 5 = 1.25 + 1 = 2.25 USD × 7 = 15.75 CNY
    flex:     400,000 × 0.625 = 0.25 USD × 7 = 1.75 CNY
    """
    customer = customer_with_contract("VAR")
    gpt5()
    rate(NOV, "7")
    key = key_for(customer)

    def rec(input, output, **extra):
        return {**record(key, model="gpt-5", provider="openai", input=input, output=output), **extra}

    ingest(
        rec(2_000_000, 200_000, processing="batch"),
        rec(400_000, 0, service_tier="flex"),
        rec(1_000_000, 100_000, web_searches=3),
        now=shanghai(2026, 12, 1, 0, 30),
    )
    drafts, holds, _rates = build_lines(customer, NOV)
    assert holds == []
    assert [(d.model, d.variant, d.amount) for d in drafts] == [
        ("gpt-5", "standard", Decimal("15.96")),
        ("gpt-5", "batch", Decimal("15.75")),
        ("gpt-5", "flex", Decimal("1.75")),
    ]
    assert drafts[0].key == (NOV, key.project_id, "openai", "gpt-5", "standard")

    bill = only(close(customer))
    lines = list(bill.lines.filter(kind=BillLine.Kind.USAGE).order_by("position"))
    assert [(ln.variant, ln.requests, ln.input_tokens, ln.units, ln.amount.amount) for ln in lines] == [
        ("standard", 1, 1_000_000, {"web_searches": 3}, Decimal("15.96")),
        ("batch", 1, 2_000_000, {}, Decimal("15.75")),
        ("flex", 1, 400_000, {}, Decimal("1.75")),
    ]
    assert bill.subtotal.amount == Decimal("33.46")
