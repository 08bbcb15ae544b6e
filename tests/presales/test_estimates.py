"""The estimate rules of CONTRACT.md "Presales", each with figures computed by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine

from billing.pricing.services import exchange_rate_set
from presales.models import Estimate
from tests.billing.helpers import SHANGHAI
from tests.presales.conftest import ESTIMATES_URL, goods_request

pytestmark = pytest.mark.django_db

# gpt-4o for 50,000 × 30 = 1,500,000 requests: input 1.2e9 (3.6e8 cached), output 4.5e8 tokens.
# cost = (8.4e8 × 2.5 + 3.6e8 × 1.25 + 4.5e8 × 10) / 1e6 = 7050 USD; × 0.92 × 7.1 = 46050.60 CNY.
GPT4O_MONTHS = [
    "46050.60",
    "48353.13",  # 46050.60 × 1.05 = 48353.13
    "50770.79",  # × 1.1025 = 50770.7865
    "53309.33",  # × 1.157625 = 53309.3258…
    "55974.79",
    "58773.53",
    "61712.21",
    "64797.82",
    "68037.71",
    "71439.60",
    "75011.57",
    "78762.15",  # × 1.05^11 = 78762.1513…
]


def post(client, body):
    return client.post(ESTIMATES_URL, body, format="json")


def test_it_prices_every_option_by_the_rules(presales_client, price_book, usd_rate):
    response = post(presales_client, goods_request())

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["currency"] == "CNY"
    assert answer["exchange_rates"] == {"USD": "7.100000"}
    assert answer["as_of"] == "2026-11-05T10:00:00+08:00"
    gpt4o, mini = answer["options"]
    assert gpt4o["workload"] == "商品描述"
    assert (gpt4o["provider"], gpt4o["model"]) == ("openai", "gpt-4o")
    assert gpt4o["price_version"] == price_book["gpt-4o"].pk  # not the December price
    assert gpt4o["monthly_requests"] == 1_500_000
    assert (gpt4o["input_tokens"], gpt4o["cached_input_tokens"], gpt4o["output_tokens"]) == (
        1_200_000_000,
        360_000_000,
        450_000_000,
    )
    assert gpt4o["monthly_amount"] == "46050.60"
    assert gpt4o["monthly_vat"] == "2763.04"  # 2763.036
    assert gpt4o["monthly_total"] == "48813.64"
    assert gpt4o["months"] == GPT4O_MONTHS
    assert gpt4o["first_year_amount"] == "732993.23"
    # gpt-4o-mini: (8.4e8 × 0.15 + 3.6e8 × 0.075 + 4.5e8 × 0.6) / 1e6 = 423 USD × 0.92 × 7.1 = 2763.036
    assert mini["monthly_amount"] == "2763.04"
    assert mini["monthly_vat"] == "165.78"  # 165.7824
    assert mini["months"][1] == "2901.19"  # 2763.04 × 1.05 = 2901.192
    assert answer["cheapest"] == {"商品描述": "gpt-4o-mini"}


def test_it_reads_the_stored_estimate_back_unchanged(presales_client, price_book, usd_rate):
    created = post(presales_client, goods_request()).json()

    response = presales_client.get(f"{ESTIMATES_URL}{created['id']}/")

    assert response.status_code == 200
    assert response.json() == created


def test_it_turns_average_qps_into_daily_requests_unrounded(presales_client, price_book):
    body = goods_request(
        days_per_month=31,
        monthly_growth_percent="0",
        discount_percent="0",
        workloads=[
            {
                "name": "客服",
                "average_qps": "0.5",
                "input_tokens": 1000,
                "output_tokens": 0,
                "models": [{"provider": "deepseek", "model": "deepseek-chat"}],
            }
        ],
    )

    answer = post(presales_client, body).json()

    (option,) = answer["options"]
    # 0.5 × 86,400 = 43,200 a day × 31 = 1,339,200; 1.3392e9 input tokens × 2 CNY / 1e6 = 2678.40
    assert option["monthly_requests"] == 1_339_200
    assert option["monthly_amount"] == "2678.40"
    assert option["months"] == ["2678.40"] * 12
    assert option["first_year_amount"] == "32140.80"
    assert answer["exchange_rates"] == {"CNY": "1"}


def test_it_rounds_token_counts_in_the_answer_but_prices_the_unrounded(presales_client, price_book, usd_rate):
    body = goods_request(
        discount_percent="0",
        workloads=[
            {
                "name": "稀疏调用",
                "average_qps": "0.0001",
                "input_tokens": 333,
                "output_tokens": 0,
                "models": [{"provider": "openai", "model": "gpt-4o"}],
            }
        ],
    )

    (option,) = post(presales_client, body).json()["options"]

    # 0.0001 × 86,400 × 30 = 259.2 requests; × 333 = 86,313.6 tokens × 2.5 / 1e6 = 0.215784 USD × 7.1
    assert option["monthly_requests"] == 259
    assert option["input_tokens"] == 86_314
    assert option["monthly_amount"] == "1.53"  # 1.5320664


def test_it_uses_the_price_version_in_force_at_as_of(presales_client, price_book, usd_rate):
    body = goods_request(as_of="2026-12-02T09:00:00+08:00", discount_percent="0", monthly_growth_percent="0")

    gpt4o = post(presales_client, body).json()["options"][0]

    assert gpt4o["price_version"] == price_book["gpt-4o-later"].pk
    # (8.4e8 × 2 + 3.6e8 × 1 + 4.5e8 × 8) / 1e6 = 5640 USD × 7.1 (October: the latest up to December)
    assert gpt4o["monthly_amount"] == "40044.00"


def test_a_fixed_rate_wins_over_the_entered_rate(presales_client, price_book, usd_rate):
    body = goods_request(fixed_exchange_rate="7.0", discount_percent="0", monthly_growth_percent="0")

    answer = post(presales_client, body).json()

    assert answer["exchange_rates"] == {"USD": "7.000000"}
    assert answer["options"][0]["monthly_amount"] == "49350.00"  # 7050 × 7.0


def test_it_takes_the_latest_rate_entered_up_to_the_month_of_as_of(presales_client, price_book, usd_rate):
    exchange_rate_set(currency="USD", period=date(2026, 11, 1), rate=Decimal("7.2"))
    exchange_rate_set(currency="USD", period=date(2026, 12, 1), rate=Decimal("9"))  # after as_of: not used

    answer = post(presales_client, goods_request(discount_percent="0", monthly_growth_percent="0")).json()

    assert answer["exchange_rates"] == {"USD": "7.200000"}
    assert answer["options"][0]["monthly_amount"] == "50760.00"  # 7050 × 7.2


def test_the_cheapest_option_is_chosen_per_workload(presales_client, price_book, usd_rate):
    second = {
        "name": "客服",
        "daily_requests": 1000,
        "input_tokens": 1000,
        "output_tokens": 100,
        "models": [{"provider": "deepseek", "model": "deepseek-chat"}, {"provider": "openai", "model": "gpt-4o"}],
    }
    body = goods_request()
    body["workloads"].append(second)

    answer = post(presales_client, body).json()

    # 客服: deepseek (30,000 × (1000 × 2 + 100 × 8) / 1e6 = 84 CNY × 0.92) vs gpt-4o (30,000 × 3500 / 1e6 USD)
    assert answer["cheapest"] == {"商品描述": "gpt-4o-mini", "客服": "deepseek-chat"}
    assert [o["monthly_amount"] for o in answer["options"] if o["workload"] == "客服"] == ["77.28", "685.86"]


def test_the_savings_levers_are_computed_with_their_assumptions(presales_client, price_book, usd_rate):
    answer = post(presales_client, goods_request(monthly_growth_percent="0")).json()

    levers = answer["levers"]
    assert set(levers["assumptions"]) == {"caching", "batch", "cheaper_models", "commitment"}
    (workload,) = levers["workloads"]
    assert workload["model"] == "gpt-4o-mini"
    caching = workload["caching"]
    assert caching["cached_share"] == "0.30"
    assert [s["cached_share"] for s in caching["scenarios"]] == ["0.50", "0.75", "0.90"]
    # 50 % cached: (6e8 × 0.15 + 6e8 × 0.075 + 4.5e8 × 0.6) / 1e6 = 405 USD × 0.92 × 7.1 = 2645.46;
    # the 20 % newly read need 20 % / 4 = 5 % of input written, at the input price (gpt-4o-mini has no
    # cache-write price): it costs what it cost uncached.
    assert caching["scenarios"][0] == {
        "cached_share": "0.50",
        "cache_write_share": "0.05",
        "monthly_amount": "2645.46",
        "saving": "117.58",
    }
    # gpt-4o-mini is the provider's cheapest model: no cheaper one to suggest
    assert workload["cheaper_models"] == []
    commitment = levers["commitment"]
    assert commitment["monthly_amount"] == "2763.04"
    # the 3 % and 5 % tiers are below the offered 8 %: they change nothing
    assert [(t["discount_percent"], t["saving"]) for t in commitment["tiers"]] == [
        ("8.00", "0.00"),
        ("8.00", "0.00"),
        ("8.00", "0.00"),
    ]
    assert [t["met"] for t in commitment["tiers"]] == [False, False, False]  # ¥2,763.04 a month is below ¥20,000


def test_the_commitment_lever_applies_a_tier_above_the_offered_discount(presales_client, price_book, usd_rate):
    body = goods_request(discount_percent="0", monthly_growth_percent="0")
    body["workloads"][0]["models"] = [{"provider": "openai", "model": "gpt-4o"}]

    tiers = post(presales_client, body).json()["levers"]["commitment"]["tiers"]

    # gpt-4o: 7050 USD × 7.1 = 50055.00 a month at no discount
    assert tiers[0] == {
        "minimum_monthly_commitment": "20000.00",
        "tier_discount_percent": "3.00",
        "discount_percent": "3.00",
        "monthly_amount": "48553.35",  # 7050 × 0.97 × 7.1 = 48553.35
        "saving": "1501.65",
        "met": True,
    }
    assert (tiers[1]["monthly_amount"], tiers[1]["met"]) == ("47552.25", False)  # × 0.95: below ¥50,000
    assert tiers[2]["met"] is False


def test_a_cheaper_model_of_the_same_provider_is_suggested(presales_client, price_book, usd_rate):
    body = goods_request()
    body["workloads"][0]["models"] = [{"provider": "openai", "model": "gpt-4o"}]

    (workload,) = post(presales_client, body).json()["levers"]["workloads"]

    assert workload["cheaper_models"] == [
        {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "price_version": price_book["gpt-4o-mini"].pk,
            "monthly_amount": "2763.04",
            "saving": "43287.56",
        }
    ]


def test_the_cheaper_models_lever_compares_only_models_of_the_same_kind(presales_client, price_book, usd_rate):
    from billing.models import PriceVersion
    from tests.billing.close_helpers import price

    for model in ("gpt-oss-safeguard-20b", "omni-moderation-latest", "text-embedding-3-small", "gpt-4o-mini-tts"):
        price(model=model, input="0.01", cached=None, output="0.02")
    body = goods_request()
    body["workloads"][0]["models"] = [{"provider": "openai", "model": "gpt-4o"}]

    (workload,) = post(presales_client, body).json()["levers"]["workloads"]

    assert [m["model"] for m in workload["cheaper_models"]] == ["gpt-4o-mini"]
    assert PriceVersion.objects.filter(model="gpt-oss-safeguard-20b").exists()


def test_it_stores_the_request_the_workloads_and_the_price_versions(
    presales_client, price_book, usd_rate, presales_user
):
    answer = post(presales_client, goods_request()).json()

    estimate = Estimate.objects.get(pk=answer["id"])
    assert estimate.created_by == presales_user
    assert estimate.discount_percent == Decimal("8")
    (workload,) = estimate.workloads.all()
    assert workload.daily_requests == 50000
    assert workload.candidate_models == [
        {"provider": "openai", "model": "gpt-4o"},
        {"provider": "openai", "model": "gpt-4o-mini"},
    ]
    assert [o.price_version_id for o in estimate.options.order_by("position")] == [
        price_book["gpt-4o"].pk,
        price_book["gpt-4o-mini"].pk,
    ]
    assert estimate.options.get(model="gpt-4o").cost == Decimal("7050")


def test_as_of_defaults_to_now(presales_client, price_book, usd_rate):
    body = goods_request()
    del body["as_of"]

    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        answer = post(presales_client, body).json()

    assert answer["as_of"] == "2026-11-20T09:00:00+08:00"
    assert answer["options"][0]["price_version"] == price_book["gpt-4o"].pk
