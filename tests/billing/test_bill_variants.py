"""Bill lines per project × model × variant with their units (CONTRACT.md "Price dimensions" →
"Bills and summaries"; issue 20 items 4 and 7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from billing.bills.lines import build_lines
from billing.bills.wording import bill_line_words
from billing.models import Bill, BillLine
from billing.pricing.services import price_version_set
from tests.billing.close_helpers import (
    DEC,
    NOV,
    close,
    customer_with_contract,
    ingest,
    key_for,
    only,
    rate,
    record,
    shanghai,
    travel,
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


def test_the_api_line_carries_variant_units_and_the_prices_it_was_priced_with(finance_client):
    customer = customer_with_contract("VAR")
    version = gpt5()
    rate(NOV, "7.0")
    key = key_for(customer)
    ingest(
        {**record(key, model="gpt-5", provider="openai", input=2_000_000, output=200_000), "processing": "batch"},
        {**record(key, model="gpt-5", provider="openai", input=1_000_000, cached=0, output=100_000), "web_searches": 3},
        now=shanghai(2026, 12, 1, 0, 30),
    )
    bill = only(close(customer))
    data = finance_client.get(f"/api/v1/bills/{bill.number}/").json()
    standard, batch = data["lines"]
    assert (standard["variant"], standard["units"]) == ("standard", {"web_searches": 3})
    assert (batch["variant"], batch["units"]) == ("batch", {})
    common = {
        "price_version": version.pk,
        "effective_from": "2026-01-01T00:00:00+08:00",
        "currency": "USD",
        "exchange_rate": "7.000000",
        "window": None,
    }
    # Only the keys that priced the line: no cache reads were made, so no cache_read_mtok.
    assert standard["unit_prices"] == [
        {**common, "prices": {"input_mtok": "1.25", "output_mtok": "10", "web_searches_kcount": "10"}}
    ]
    assert batch["unit_prices"] == [{**common, "prices": {"input_mtok": "0.625", "output_mtok": "5"}}]


def test_a_line_over_two_versions_and_a_time_of_day_window_lists_each(finance_client):
    """deepseek-chat, CNY, changed on 2026-11-16; the new version is half price 00:30–08:30."""
    customer = customer_with_contract("WIN")
    old, _c = price_version_set(
        provider="deepseek",
        model="deepseek-chat",
        effective_from=shanghai(2026, 1, 1),
        currency="CNY",
        prices={"input_mtok": "2", "output_mtok": "8"},
    )
    new, _c = price_version_set(
        provider="deepseek",
        model="deepseek-chat",
        effective_from=shanghai(2026, 11, 16),
        currency="CNY",
        prices={"input_mtok": "2", "output_mtok": "8"},
        windows=[{"start": "00:30", "end": "08:30", "prices": {"input_mtok": "1", "output_mtok": "4"}}],
    )
    key = key_for(customer)

    def rec(at):
        return record(key, model="deepseek-chat", provider="deepseek", input=1_000_000, output=1_000_000, at=at)

    # 2 + 8 = 10 (old) + 1 + 4 = 5 (new, off-peak) + 10 (new, peak) = 25 CNY
    ingest(
        rec(shanghai(2026, 11, 10, 12)),
        rec(shanghai(2026, 11, 20, 1)),
        rec(shanghai(2026, 11, 20, 12)),
        now=shanghai(2026, 12, 1, 0, 30),
    )
    bill = only(close(customer))
    (line,) = finance_client.get(f"/api/v1/bills/{bill.number}/").json()["lines"]
    assert line["amount"] == "25.00"
    assert [(p["price_version"], p["window"], p["exchange_rate"], p["prices"]) for p in line["unit_prices"]] == [
        (old.pk, None, "1", {"input_mtok": "2", "output_mtok": "8"}),
        (new.pk, None, "1", {"input_mtok": "2", "output_mtok": "8"}),
        (new.pk, {"start": "00:30", "end": "08:30"}, "1", {"input_mtok": "1", "output_mtok": "4"}),
    ]
    with translation.override("zh-hans"):
        (words,) = bill_line_words(bill.lines.all())
    assert [(group.heading, group.prices) for group in words.price_groups] == [
        ("2026-01-01 起", ["输入 2、输出 8 CNY/百万 tokens"]),
        ("2026-11-16 起 · 其他时段", ["输入 2、输出 8 CNY/百万 tokens"]),
        ("2026-11-16 起 · 00:30–08:30", ["输入 1、输出 4 CNY/百万 tokens"]),
    ]


def test_late_batch_usage_is_an_adjustment_line_of_its_own_variant():
    """November closed; a Batch and a standard gpt-5 record of 30 November arrive on
    2 December: the December bill has one adjustment line per variant, at November's rate 7:
    standard 1,000,000 × 1.25 = 1.25 USD → 8.75; Batch 1,000,000 × 0.625 = 0.625 → 4.375 → 4.38
    (half up)."""
    customer = customer_with_contract("LATE")
    gpt5()
    rate(NOV, "7")
    rate(DEC, "7.2")
    key = key_for(customer)
    ingest(record(key, model="gpt-5", provider="openai", input=1_000), now=shanghai(2026, 11, 30))
    with travel(2026, 12, 1):
        only(close(customer))
    ingest(
        {
            **record(key, model="gpt-5", provider="openai", input=1_000_000, at=shanghai(2026, 11, 30, 23)),
            "processing": "batch",
        },
        record(key, model="gpt-5", provider="openai", input=1_000_000, at=shanghai(2026, 11, 30, 22)),
        now=shanghai(2026, 12, 2),
    )
    with travel(2027, 1, 1):
        december = only(close(customer, DEC))
    assert [(ln.kind, ln.period, ln.variant, ln.amount.amount) for ln in december.lines.order_by("position")] == [
        ("adjustment", NOV, "standard", Decimal("8.75")),
        ("adjustment", NOV, "batch", Decimal("4.38")),
    ]


def test_a_context_no_variant_names_holds_the_bill_and_its_line_shows_the_variant():
    """gpt-5 here has no priority variant: a priority record is unpriced (rule 2′) and holds
    the bill; the draft still shows its line, per variant, at 0.00."""
    customer = customer_with_contract("HOLD")
    gpt5()
    rate(NOV, "7")
    key = key_for(customer)
    ingest(
        record(key, model="gpt-5", provider="openai", input=1_000_000),
        {**record(key, model="gpt-5", provider="openai", input=1_000), "service_tier": "priority"},
        now=shanghai(2026, 11, 30),
    )
    with travel(2026, 12, 1):
        bill = only(close(customer))
    assert bill.status == Bill.Status.DRAFT
    assert "gpt-5 (1)" in bill.hold_reason
    assert [(ln.variant, ln.requests, ln.amount.amount) for ln in bill.lines.order_by("position")] == [
        ("standard", 1, Decimal("8.75")),
        ("priority", 1, Decimal("0.00")),
    ]


def test_variants_units_and_prices_in_words_in_both_languages():
    from billing.bills.wording import price_bands, units_words, variant_words

    prices = {
        "input_mtok": {"base": "1.25", "tiers": [{"start": 200000, "price": "2.5"}]},
        "output_mtok": "10",
        "web_searches_kcount": "10",
    }
    with translation.override("zh-hans"):
        assert variant_words("batch+flex") == "批量 + 弹性"
        assert variant_words("priority") == "优先"
        assert units_words({"web_searches": 1200, "cache_write_1h_tokens": 5, "output_audio_tokens": 0}) == [
            "缓存写入 1小时 5 tokens",
            "联网搜索 1,200 次",
        ]
        assert price_bands(prices, "USD") == [
            "输入 1.25、输出 10 USD/百万 tokens；联网搜索 10 USD/千次",
            "输入超过 200,000 tokens 的请求：输入 2.5 USD/百万 tokens",
        ]
    with translation.override("en"):
        assert variant_words("batch+flex") == "Batch + flex"
        assert units_words({"web_searches": 3}) == ["web searches: 3"]
        assert price_bands(prices, "USD")[1] == "requests above 200,000 input tokens: input 2.5 USD per 1M tokens"
