"""Presales estimates priced by money rule 2′ (docs/money-rules.md): cache writes at their price, Batch through the
model's own Batch prices, long-context tiers per request (issue 20, item 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.pricing.services import price_version_set
from tests.presales.conftest import ESTIMATES_URL, goods_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def sonnet(db):
    # Claude Sonnet 4.5: input 3, 5-minute cache writes 3.75, reads 0.30, output 15 per MTok; Batch 1.5 / 7.5.
    return price_version_set(
        provider="anthropic",
        model="claude-sonnet-4-5",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        currency="USD",
        prices={
            "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
            "cache_read_mtok": "0.3",
            "cache_write_mtok": "3.75",
            "output_mtok": "15",
        },
        variants=[{"when": {"processing": "batch"}, "prices": {"input_mtok": "1.5", "output_mtok": "7.5"}}],
    )[0]


def agent(**workload) -> dict:
    body = goods_request(fixed_exchange_rate="7", discount_percent="0")
    body["workloads"] = [
        {
            "name": "agent",
            "daily_requests": 1000,
            "input_tokens": 10000,
            "output_tokens": 500,
            "cached_share": "0.40",
            "models": [{"provider": "anthropic", "model": "claude-sonnet-4-5"}],
            **workload,
        }
    ]
    return body


def test_it_prices_cache_writes_and_batch_with_the_models_own_prices(presales_client, sonnet):
    response = presales_client.post(ESTIMATES_URL, agent(cache_write_share="0.15", batch_share="0.5"), format="json")

    assert response.status_code == 201, response.json()
    (option,) = response.json()["options"]
    # One request: 4,500 uncached × 3 + 4,000 read × 0.3 + 1,500 written × 3.75 + 500 × 15
    #   = 13,500 + 1,200 + 5,625 + 7,500 = 27,825 / 10^6 = $0.027825 standard;
    # Batch: 4,500 × 1.5 + 1,200 + 5,625 + 500 × 7.5 = 6,750 + 1,200 + 5,625 + 3,750 = $0.017325.
    # Half each: 0.022575 × 30,000 requests = $677.25 × 7 (fixed rate) = ¥4740.75.
    assert option["monthly_amount"] == "4740.75"
    levers = response.json()["levers"]["workloads"][0]
    # All of it through Batch: 0.017325 × 30,000 × 7 = ¥3638.25
    assert levers["batch"] == {
        "batch_share": "0.50",
        "available": True,
        "scenarios": [{"batch_share": "1.00", "monthly_amount": "3638.25", "saving": "1102.50"}],
    }


def test_a_model_without_batch_prices_has_no_batch_lever_and_refuses_a_batch_share(presales_client, price_book):
    body = goods_request(fixed_exchange_rate="7")
    response = presales_client.post(ESTIMATES_URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["levers"]["workloads"][0]["batch"]["available"] is False

    body["workloads"][0]["batch_share"] = "0.5"
    response = presales_client.post(ESTIMATES_URL, body, format="json")
    assert response.status_code == 400
    assert "workloads" in response.json()["errors"]


def test_it_prices_the_long_context_tier_per_request(presales_client, sonnet):
    response = presales_client.post(
        ESTIMATES_URL, agent(input_tokens=250000, output_tokens=0, cached_share="0"), format="json"
    )

    (option,) = response.json()["options"]
    # 250,000 × 6 (above 200k, all tokens) / 10^6 = $1.5 × 30,000 × 7 = ¥315,000.00
    assert option["monthly_amount"] == "315000.00"


def test_it_refuses_cache_shares_above_the_whole_input(presales_client, sonnet):
    response = presales_client.post(ESTIMATES_URL, agent(cache_write_share="0.7"), format="json")

    assert response.status_code == 400
    assert any("cache_write_share" in field for field in response.json()["errors"]), response.json()
