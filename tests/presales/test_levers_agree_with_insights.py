"""One workload, two surfaces: a presales estimate's savings levers and a customer's cost
insights for a month of exactly that usage (same model, discount and rate) give the same
figures, because both call billing/pricing/whatif.py (issue 24, item 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.insights.costs import cost_insights
from billing.pricing.services import price_version_set
from customers.models import Contract
from presales.estimates import estimate_create
from presales.rules import EstimateInput, WorkloadInput
from tests.billing.helpers import ingest, shanghai, usage
from tests.factories import ProjectFactory, api_key_for

pytestmark = pytest.mark.django_db

NOVEMBER = date(2026, 11, 1)


def _claude(model: str, input_price: str) -> None:
    """Anthropic's list prices (Sonnet 4.5: input 3; Haiku 4.5: input 1 USD per MTok): 5-minute
    cache writes 1.25× input, reads 0.1×, output 5×; Batch half of each."""
    base = Decimal(input_price)
    prices = {
        "input_mtok": base,
        "cache_write_mtok": base * 5 / 4,
        "cache_read_mtok": base / 10,
        "output_mtok": base * 5,
    }
    price_version_set(
        provider="anthropic",
        model=model,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        currency="USD",
        prices={key: str(value) for key, value in prices.items()},
        variants=[{"when": {"processing": "batch"}, "prices": {k: str(v / 2) for k, v in prices.items()}}],
    )


@pytest.fixture
def agent(acme):
    """ACME at 5 % off and a fixed 7 CNY per USD; November: 60 calls of the agent below, half of
    them through Batch."""
    _claude("claude-sonnet-4-5", "3")
    _claude("claude-haiku-4-5", "1")
    key, _secret = api_key_for(ProjectFactory(customer=acme, code="agent", name="智能体"), name="agent")
    Contract.objects.filter(customer=acme).update(discount_percent=Decimal("5"), fixed_exchange_rate=Decimal("7"))
    records = [
        usage(
            key.key_id,
            f"n{day}-{n}",
            model="claude-sonnet-4-5",
            input_tokens=100_000,
            cached_input_tokens=40_000,
            cache_write_tokens=15_000,
            output_tokens=5_000,
            processing="batch" if n else "standard",
            occurred_at=shanghai(2026, 11, day, 10 + n).isoformat(),
        )
        for day in range(1, 31)
        for n in range(2)
    ]
    result = ingest(records, now=shanghai(2026, 12, 1, 1))
    assert (result.accepted, result.unpriced, result.rejected) == (60, 0, [])
    return acme


def test_presales_levers_and_insights_agree_for_the_same_workload(agent):
    estimate = estimate_create(
        request=EstimateInput(
            prospect="ACME",
            days_per_month=30,
            discount_percent=Decimal("5"),
            fixed_exchange_rate=Decimal("7"),
            as_of=shanghai(2026, 11, 5, 10),
            workloads=[
                WorkloadInput(
                    name="agent",
                    daily_requests=2,
                    input_tokens=100_000,
                    output_tokens=5_000,
                    cached_share=Decimal("0.40"),
                    cache_write_share=Decimal("0.15"),
                    batch_share=Decimal("0.5"),
                    models=[("anthropic", "claude-sonnet-4-5")],
                )
            ],
        )
    )
    (levers,) = estimate.levers["workloads"]
    insights = cost_insights(customer=agent, period=NOVEMBER)

    # One call: 45,000 × 3 + 40,000 × 0.3 + 15,000 × 3.75 + 5,000 × 15 = 278,250 → 0.27825 USD;
    # through Batch half: 0.139125. 30 of each: 12.52125 USD × 7 × 0.95 = 83.2663125 → ¥83.27.
    assert levers["monthly_amount"] == "83.27"
    (mix,) = insights["model_mix"]
    assert mix["cost"] == "83.27"

    (caching,) = insights["caching"]["models"]
    # Presales shows the shares above the workload's 40 %; insights all four (25 % changes nothing).
    assert [s["target_share"] for s in caching["scenarios"]] == ["0.25", "0.50", "0.75", "0.90"]
    # At 90 % only 85 % can be read: 15 % is already written, and a token is read or written once.
    assert [s["cached_share"] for s in levers["caching"]["scenarios"]] == ["0.50", "0.75", "0.85"]
    for scenario, seen in zip(levers["caching"]["scenarios"], caching["scenarios"][1:], strict=True):
        assert (seen["cached_share"], seen["cache_write_share"], seen["cost"], seen["saving"]) == (
            scenario["cached_share"],
            scenario["cache_write_share"],
            scenario["monthly_amount"],
            scenario["saving"],
        )
    # 50 %: 10,000 more read and 2,500 more written per call: 32,500 × 3 + 50,000 × 0.3 + 17,500 ×
    # 3.75 + 75,000 = 97,500 + 15,000 + 65,625 + 75,000 = 253,125 (Batch: half) → 30 × 0.3796875 =
    # 11.390625 USD × 6.65 = 75.74765625 → ¥75.75.
    assert caching["scenarios"][1]["cost"] == "75.75"

    (batch,) = insights["batch"]["models"]
    assert levers["batch"]["available"] is batch["available"] is True
    (all_batch,) = levers["batch"]["scenarios"]
    assert batch["scenarios"][1]["target_share"] == all_batch["batch_share"] == "1.00"
    # All through Batch: 60 × 0.139125 = 8.3475 USD × 6.65 = 55.510875 → ¥55.51.
    assert (batch["scenarios"][1]["cost"], batch["scenarios"][1]["saving"]) == ("55.51", "27.76")
    assert (all_batch["monthly_amount"], all_batch["saving"]) == ("55.51", "27.76")

    (alternatives,) = insights["cheaper_alternatives"]["models"]
    (haiku,) = alternatives["alternatives"]
    (cheaper,) = levers["cheaper_models"]
    assert (haiku["model"], haiku["cost"], haiku["saving"]) == (
        cheaper["model"],
        cheaper["monthly_amount"],
        cheaper["saving"],
    )
    # Haiku 4.5 is Sonnet's prices ÷ 3 for the same calls: 12.52125 / 3 = 4.17375 USD × 6.65 = 27.7554375.
    assert (cheaper["model"], cheaper["monthly_amount"]) == ("claude-haiku-4-5", "27.76")
