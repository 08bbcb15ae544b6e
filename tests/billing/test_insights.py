"""Cost insights: model mix, trend, cheaper models, caching and batch what-ifs, all from the
customer's real rollups and the price book, in exact CNY."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.insights.costs import cost_insights
from billing.models import ExchangeRate
from customers.models import Contract
from tests.billing.helpers import ingest, price, shanghai, usage
from tests.factories import ProjectFactory, api_key_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/ACME/insights/"
OCTOBER = date(2026, 10, 1)


@pytest.fixture
def october(acme, acme_key, other_key, gpt4o):
    """ACME, 20 % discount; USD at 7.00 for September and 6.25 for October (5 CNY per list USD).

    October usage: gpt-4o 400k in / 100k out (2.00 USD), claude-x 200k in of which 100k cached /
    20k out (0.63 USD), deepseek-chat 1M in / 500k out (6.00 CNY), one unpriced call.
    September: gpt-4o 100k in / 10k out (0.35 USD). Noise that must not count: November usage
    and another customer's October usage."""
    Contract.objects.filter(customer=acme).update(discount_percent=Decimal("20"))
    ExchangeRate.objects.create(currency="USD", period=date(2026, 9, 1), rate=Decimal("7.00"))
    ExchangeRate.objects.create(currency="USD", period=OCTOBER, rate=Decimal("6.25"))
    # openai: mini changed mid-October (the October version counts); 4.1-mini changes at the very
    # start of November (it must not count); o1 is dearer than what was used.
    price(model="gpt-4o-mini", input="0.3", cached="0.15", output="1.2")
    price(model="gpt-4o-mini", effective_from=date(2026, 10, 20), input="0.15", cached="0.075", output="0.6")
    price(model="gpt-4.1-nano", input="0.1", cached="0.025", output="0.4")
    price(model="gpt-4.1-mini", input="0.4", cached="0.1", output="1.6")
    price(model="gpt-4.1-mini", effective_from=date(2026, 11, 1), input="0.2", cached="0.05", output="0.8")
    price(model="gpt-4.1", input="2", cached="0.5", output="8")
    price(model="o1", input="15", cached="7.5", output="60")
    price(provider="anthropic", model="claude-x", input="3", cached="0.3", output="15")
    price(provider="anthropic", model="claude-haiku", input="0.8", cached="0.08", output="4")
    price(provider="anthropic", model="claude-opus", input="15", cached="1.5", output="75")
    price(provider="deepseek", model="deepseek-chat", input="2", cached="0.5", output="8", currency="CNY")
    price(provider="deepseek", model="deepseek-reasoner", input="4", cached="1", output="16", currency="CNY")
    search_key, _secret = api_key_for(ProjectFactory(customer=acme, code="search", name="搜索"), name="search")
    key = acme_key.key_id
    result = ingest(
        [
            # gpt-4o split over two keys and two price-identical calls: 400k in, 100k out.
            usage(key, "o1", input_tokens=300_000, cached_input_tokens=0, output_tokens=60_000),
            usage(search_key.key_id, "o2", input_tokens=100_000, cached_input_tokens=0, output_tokens=40_000),
            usage(key, "c1", model="claude-x", input_tokens=200_000, cached_input_tokens=100_000, output_tokens=20_000),
            usage(
                key,
                "d1",
                model="deepseek-chat",
                input_tokens=1_000_000,
                cached_input_tokens=0,
                output_tokens=500_000,
                occurred_at="2026-10-31T23:59:59+08:00",
            ),
            usage(key, "m1", model="mystery-1", input_tokens=500, cached_input_tokens=0, output_tokens=5),
            usage(
                key,
                "s1",
                input_tokens=100_000,
                cached_input_tokens=0,
                output_tokens=10_000,
                occurred_at="2026-09-10T10:00:00+08:00",
            ),
            usage(key, "n1", input_tokens=900_000, output_tokens=0, occurred_at="2026-11-01T00:00:00+08:00"),
            usage(other_key.key_id, "x1", input_tokens=5_000_000, output_tokens=0),
        ],
        now=shanghai(2026, 11, 2, 12),
    )
    assert (result.accepted, result.unpriced, result.rejected) == (8, 1, [])
    return acme


def by_model(items: list[dict]) -> dict[str, dict]:
    return {item["model"]: item for item in items}


def test_it_gives_the_model_mix_as_bill_lines_with_shares(october):
    data = cost_insights(customer=october, period=OCTOBER)
    assert (data["customer"], data["period"], data["currency"], data["discount_percent"]) == (
        "ACME",
        "2026-10",
        "CNY",
        "20.00",
    )
    assert data["total_cost"] == "17.95"
    assert data["missing_rates"] == []
    assert [
        (
            m["provider"],
            m["model"],
            m["requests"],
            m["input_tokens"],
            m["cached_input_tokens"],
            m["output_tokens"],
            m["unpriced_requests"],
            m["cost"],
            m["share_percent"],
        )
        for m in data["model_mix"]
    ] == [
        ("openai", "gpt-4o", 2, 400_000, 0, 100_000, 0, "10.00", "55.71"),  # 2.00 USD × 0.8 × 6.25
        ("deepseek", "deepseek-chat", 1, 1_000_000, 0, 500_000, 0, "4.80", "26.74"),  # 6.00 CNY × 0.8
        ("anthropic", "claude-x", 1, 200_000, 100_000, 20_000, 0, "3.15", "17.55"),  # 0.63 USD × 5
        ("", "mystery-1", 1, 500, 0, 5, 1, "0.00", "0.00"),
    ]


def test_it_gives_six_months_of_trend_ending_at_the_period(october):
    trend = cost_insights(customer=october, period=OCTOBER)["trend"]
    assert trend["periods"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert {m["model"]: m["costs"] for m in trend["models"]} == {
        "mystery-1": ["0.00"] * 6,
        "claude-x": ["0.00"] * 5 + ["3.15"],
        "deepseek-chat": ["0.00"] * 5 + ["4.80"],
        # September at its own rate: 0.35 USD × 0.8 × 7.00
        "gpt-4o": ["0.00"] * 4 + ["1.96", "10.00"],
    }
    assert trend["totals"] == ["0.00"] * 4 + ["1.96", "17.95"]


def test_it_finds_cheaper_models_of_the_same_provider_at_the_price_in_force_at_month_end(october):
    # Cheaper still, but not chat models: never offered in place of gpt-4o (the presales rule).
    price(model="omni-moderation-latest", input="0.01", cached=None, output="0.01")
    price(model="text-embedding-3-small", input="0.02", cached=None, output="0.02")
    alternatives = by_model(cost_insights(customer=october, period=OCTOBER)["cheaper_alternatives"]["models"])
    gpt4o = alternatives["gpt-4o"]
    assert gpt4o["cost"] == "10.00"
    # nano 0.08 USD, mini at its 20 October price 0.12, 4.1-mini at its October price 0.32
    # (not November's 0.16); gpt-4.1 (1.60 USD → 8.00) is cheaper too but only three are kept.
    assert [(a["model"], a["cost"], a["saving"], a["saving_percent"]) for a in gpt4o["alternatives"]] == [
        ("gpt-4.1-nano", "0.40", "9.60", "96.00"),
        ("gpt-4o-mini", "0.60", "9.40", "94.00"),
        ("gpt-4.1-mini", "1.60", "8.40", "84.00"),
    ]
    assert gpt4o["alternatives"][1]["price_effective_from"] == "2026-10-19T16:00:00+00:00"
    assert all(a["provider"] == "openai" for a in gpt4o["alternatives"])
    # claude-haiku for 100k in, 100k cached, 20k out: 0.168 USD → 0.84; opus is dearer.
    assert [
        (a["model"], a["cost"], a["saving"], a["saving_percent"]) for a in alternatives["claude-x"]["alternatives"]
    ] == [("claude-haiku", "0.84", "2.31", "73.33")]
    assert alternatives["deepseek-chat"]["alternatives"] == []
    assert "mystery-1" not in alternatives  # unpriced: no actual cost to compare with


def test_it_prices_caching_with_the_cache_writes_it_needs(october):
    caching = cost_insights(customer=october, period=OCTOBER)["caching"]
    assert caching["target_shares"] == ["0.25", "0.50", "0.75", "0.90"]
    assert caching["reads_per_write"] == 4
    assert "每新增读取 4 个 token 需一次 5 分钟缓存写入" in caching["assumption"]  # zh-hans by default
    assert caching["cost"] == "17.95"
    models = by_model(caching["models"])
    # None of these versions has a cache-write price: writes cost the input price (rule 2′).
    # gpt-4o at 25 %: 100k read × 1.25 + 25k written × 2.5 + 275k uncached × 2.5 + 100k out × 10
    # = 1.875 USD × 5 = 9.375, half up. At 90 %: 360k read, 40k written (90k wanted, only 40k left
    # uncached): 0.45 + 0.10 + 1.00 = 1.55 USD → 7.75.
    assert [
        (s["target_share"], s["cached_share"], s["cache_write_share"], s["cost"], s["saving"])
        for s in models["gpt-4o"]["scenarios"]
    ] == [
        ("0.25", "0.25", "0.06", "9.38", "0.62"),  # 25k of 400k written: 0.0625
        ("0.50", "0.50", "0.13", "8.75", "1.25"),  # 50k: 0.125
        ("0.75", "0.75", "0.19", "8.13", "1.87"),  # 75k: 0.1875
        ("0.90", "0.90", "0.10", "7.75", "2.25"),
    ]
    # Already 50 % cached: 25 % and 50 % change nothing; 75 %: 150k read, 12.5k written, 37.5k
    # uncached: 0.045 + 0.0375 + 0.1125 + 0.3 = 0.495 USD × 5 = 2.475; 90 %: 180k read, 20k
    # written: 0.054 + 0.06 + 0.3 = 0.414 → 2.07.
    assert (models["claude-x"]["cached_share"], models["claude-x"]["cache_write_share"]) == ("0.50", "0.00")
    assert [(s["cost"], s["saving"]) for s in models["claude-x"]["scenarios"]] == [
        ("3.15", "0.00"),
        ("3.15", "0.00"),
        ("2.48", "0.67"),
        ("2.07", "1.08"),
    ]
    # deepseek-chat (CNY, × 0.8): at 90 %, 900k read × 0.5 + 100k written × 2 + 500k out × 8 = 4.65 → 3.72.
    assert [(s["cost"], s["saving"]) for s in models["deepseek-chat"]["scenarios"]] == [
        ("4.50", "0.30"),
        ("4.20", "0.60"),
        ("3.90", "0.90"),
        ("3.72", "1.08"),
    ]
    assert [(s["target_share"], s["cost"], s["saving"]) for s in caching["scenarios"]] == [
        ("0.25", "17.03", "0.92"),
        ("0.50", "16.10", "1.85"),
        ("0.75", "14.51", "3.44"),
        ("0.90", "13.54", "4.41"),
    ]


def test_a_model_without_batch_prices_has_no_batch_lever(october):
    batch = cost_insights(customer=october, period=OCTOBER)["batch"]
    assert batch["target_shares"] == ["0.50", "1.00"]
    assert "没有批量价格的模型没有批量措施" in batch["assumption"]
    # No price version of the fixture has a Batch variant: no fixed "50 % off" is assumed.
    assert [(m["model"], m["available"], m["scenarios"]) for m in batch["models"]] == [
        ("claude-x", False, []),
        ("deepseek-chat", False, []),
        ("gpt-4o", False, []),
    ]
    assert batch["models"][0]["note"] == "价目表中该模型没有批量价格：无批量措施。"
    assert [(s["target_share"], s["cost"], s["saving"]) for s in batch["scenarios"]] == [
        ("0.50", "17.95", "0.00"),
        ("1.00", "17.95", "0.00"),
    ]


def test_it_leaves_amounts_null_and_names_the_rate_when_one_is_missing(october):
    ExchangeRate.objects.all().delete()
    data = cost_insights(customer=october, period=OCTOBER)
    assert data["missing_rates"] == ["USD 2026-09", "USD 2026-10"]
    assert data["total_cost"] is None
    mix = by_model(data["model_mix"])
    assert (mix["gpt-4o"]["cost"], mix["deepseek-chat"]["cost"]) == (None, "4.80")


def test_it_is_empty_for_a_month_without_usage(october):
    data = cost_insights(customer=october, period=date(2026, 3, 1))
    assert (data["total_cost"], data["model_mix"], data["cheaper_alternatives"]["models"]) == ("0.00", [], [])
    assert data["trend"]["totals"] == ["0.00"] * 6


def test_it_serves_insights_to_finance_and_the_customer_only(
    october, finance_client, alice_client, bob_client, charlie_client
):
    response = finance_client.get(URL, {"period": "2026-10"})
    assert response.status_code == 200, response.content
    assert response.json() == cost_insights(customer=october, period=OCTOBER)
    assert alice_client.get(URL, {"period": "2026-10"}).status_code == 200
    assert bob_client.get(URL, {"period": "2026-10"}).status_code == 200
    assert charlie_client.get(URL, {"period": "2026-10"}).status_code == 404
    english = finance_client.get(URL, {"period": "2026-10"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert "one 5-minute cache write for every 4 tokens newly read" in english["caching"]["assumption"]
    assert english["batch"]["models"][0]["note"] == "No Batch prices for this model in the price book: no Batch lever."
    assert english["caching"]["scenarios"] == response.json()["caching"]["scenarios"]
    bad = finance_client.get(URL, {"period": "October"})
    assert bad.status_code == 400
    assert "period" in bad.json()["errors"]
