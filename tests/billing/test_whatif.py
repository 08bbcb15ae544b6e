"""The one what-if module (billing/pricing/whatif.py), figures computed by hand from the
providers' list prices: caching with the cache writes it needs at Claude Sonnet 4.5's real
cache-write price (1.25× input, reads 0.1×), Batch at gpt-5's Batch prices (50 %), and a model
without Batch prices (no Batch lever)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.pricing import whatif
from billing.pricing.services import price_version_set
from billing.pricing.terms import PeriodTerms
from tests.billing.helpers import price

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 5, 2, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)
D = Decimal
ZERO = Decimal(0)


@pytest.fixture
def sonnet(db):
    """anthropic.com/pricing: input 3, 5-minute cache writes 3.75, 1-hour writes 6, reads 0.30, output
    15 USD per MTok (6 / 7.5 / 12 / 0.6 / 22.5 above 200k input); Batch half of each."""
    return price_version_set(
        provider="anthropic",
        model="claude-sonnet-4-5",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        currency="USD",
        prices={
            "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
            "cache_write_mtok": {"base": "3.75", "tiers": [{"start": 200000, "price": "7.5"}]},
            "cache_write_1h_mtok": {"base": "6", "tiers": [{"start": 200000, "price": "12"}]},
            "cache_read_mtok": {"base": "0.3", "tiers": [{"start": 200000, "price": "0.6"}]},
            "output_mtok": {"base": "15", "tiers": [{"start": 200000, "price": "22.5"}]},
        },
        variants=[
            {
                "when": {"processing": "batch"},
                "prices": {
                    "input_mtok": "1.5",
                    "cache_write_mtok": "1.875",
                    "cache_read_mtok": "0.15",
                    "output_mtok": "7.5",
                },
            }
        ],
    )[0]


@pytest.fixture
def gpt5(db):
    """platform.openai.com/docs/pricing: input 1.25, cached input 0.125, output 10 USD per MTok;
    Batch 0.625 / 0.0625 / 5 (50 % off); flex as Batch."""
    half = {"input_mtok": "0.625", "cache_read_mtok": "0.0625", "output_mtok": "5"}
    return price_version_set(
        provider="openai",
        model="gpt-5",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        currency="USD",
        prices={"input_mtok": "1.25", "cache_read_mtok": "0.125", "output_mtok": "10"},
        variants=[
            {"when": {"processing": "batch"}, "prices": half},
            {"when": {"service_tier": "flex"}, "prices": half},
        ],
    )[0]


def at_seven():
    """No discount, a fixed rate of 7 CNY per USD (as an estimate's offer)."""
    return PeriodTerms.proposed(discount_percent=D(0), fixed_exchange_rate=D(7))


def workload(version, *, requests=1000, input_tokens, output_tokens, cached=ZERO, written=ZERO, batch=ZERO):
    per_request = {
        "input_tokens": D(input_tokens),
        "cache_read_tokens": input_tokens * cached,
        "cache_write_tokens": input_tokens * written,
        "output_tokens": D(output_tokens),
    }
    parts = whatif.workload_parts(requests=D(requests), per_request=per_request, batch_share=batch)
    return whatif.Usage(version, parts, AT)


def test_caching_adds_the_cache_writes_it_needs_at_sonnets_cache_write_price(sonnet):
    usage = workload(sonnet, input_tokens=10_000, output_tokens=500)
    lever = whatif.caching_lever([usage], at_seven(), NOVEMBER, [D("0.50"), D("0.90")])

    # Now: 1,000 × (10,000 × 3 + 500 × 15) / 10^6 = 37.5 USD × 7 = ¥262.50.
    assert lever.amount == D("262.50")
    half, most = lever.scenarios
    # 50 %: per request 5,000 read × 0.3 = 1,500; the 5,000 newly read need 5,000 / 4 = 1,250
    # written × 3.75 = 4,687.5; 3,750 uncached × 3 = 11,250; output 7,500 → 24,937.5 / 10^6 ×
    # 1,000 = 24.9375 USD × 7 = 174.5625 → ¥174.56 (writes at the input price would say ¥168.00).
    assert (half.cached_share, half.cache_write_share) == (D("0.5"), D("0.125"))
    assert (half.amount, half.saving) == (D("174.56"), D("87.94"))
    # 90 %: 9,000 read × 0.3 = 2,700; 2,250 writes wanted, only 1,000 uncached left: 1,000 ×
    # 3.75 = 3,750; output 7,500 → 13,950 → 13.95 USD × 7 = ¥97.65.
    assert (most.cached_share, most.cache_write_share) == (D("0.9"), D("0.1"))
    assert (most.amount, most.saving) == (D("97.65"), D("164.85"))


def test_caching_keeps_the_workloads_own_writes_and_reads(sonnet):
    # 40 % read and 15 % written already: at 50 %, 1,000 more read and 250 more written per request.
    usage = workload(sonnet, input_tokens=10_000, output_tokens=500, cached=D("0.40"), written=D("0.15"))
    lever = whatif.caching_lever([usage], at_seven(), NOVEMBER, [D("0.25"), D("0.50")])

    # Now: 4,500 × 3 + 4,000 × 0.3 + 1,500 × 3.75 + 500 × 15 = 27,825 → 27.825 USD × 7 = ¥194.775 → ¥194.78.
    assert lever.amount == D("194.78")
    unchanged, half = lever.scenarios
    assert (unchanged.amount, unchanged.saving) == (D("194.78"), D("0.00"))  # already above 25 %
    # 50 %: 3,250 × 3 + 5,000 × 0.3 + 1,750 × 3.75 + 7,500 = 9,750 + 1,500 + 6,562.5 + 7,500 = 25,312.5
    # → 25.3125 USD × 7 = 177.1875 → ¥177.19.
    assert (half.cache_write_share, half.amount, half.saving) == (D("0.175"), D("177.19"), D("17.59"))


def test_batch_is_priced_at_gpt5s_batch_prices(gpt5):
    usage = workload(gpt5, input_tokens=10_000, output_tokens=1_000, cached=D("0.20"))
    lever = whatif.batch_lever([usage], at_seven(), NOVEMBER)

    # Standard: 8,000 × 1.25 + 2,000 × 0.125 + 1,000 × 10 = 20,250 → 20.25 USD × 7 = ¥141.75.
    # Batch: 8,000 × 0.625 + 2,000 × 0.0625 + 1,000 × 5 = 10,125 → 10.125 USD × 7 = 70.875.
    assert (lever.available, lever.share, lever.amount) == (True, D(0), D("141.75"))
    half, whole = lever.scenarios
    assert (half.share, half.amount, half.saving) == (D("0.50"), D("106.31"), D("35.44"))  # 15.1875 × 7 = 106.3125
    assert (whole.share, whole.amount, whole.saving) == (D("1"), D("70.88"), D("70.87"))


def test_batch_moves_only_what_is_not_batch_yet_and_leaves_flex_alone(gpt5):
    flex = whatif.Part(D(100), {"input_tokens": D(1_000_000), "output_tokens": D(0)}, service_tier="flex")
    standard = whatif.Part(D(100), {"input_tokens": D(1_000_000), "output_tokens": D(0)})
    batch = whatif.Part(D(100), {"input_tokens": D(1_000_000), "output_tokens": D(0)}, processing="batch")
    # Actual cost as billed: 1.25 + 0.625 + 0.625 = 2.5 USD.
    usage = whatif.Usage(gpt5, (standard, batch, flex), AT, D("2.5"))
    lever = whatif.batch_lever([usage], at_seven(), NOVEMBER)

    assert lever.share == D("0.5")  # 100 batch of the 200 standard and batch requests; flex is neither
    half, whole = lever.scenarios
    assert (half.amount, half.saving) == (D("17.50"), D("0.00"))  # 2.5 USD × 7
    # All standard to Batch: saves 1.25 − 0.625 = 0.625 USD → 1.875 USD × 7 = ¥13.125 → ¥13.13.
    assert (whole.amount, whole.saving) == (D("13.13"), D("4.37"))


def test_a_model_without_batch_prices_has_no_batch_lever(db):
    version = price(provider="deepseek", model="deepseek-chat", input="2", cached="0.5", output="8", currency="CNY")
    usage = workload(version, input_tokens=1_000, output_tokens=100)
    lever = whatif.batch_lever([usage], at_seven(), NOVEMBER)

    assert (lever.available, lever.scenarios) == (False, [])
    # 1,000 × (1,000 × 2 + 100 × 8) / 10^6 = 2.8 CNY, at 1.
    assert lever.amount == D("2.80")
    # Caching still applies: 50 % → 500 read × 0.5 + 125 written and 375 uncached × 2 + 800 = 2,050
    # → 2.05 CNY.
    (half,) = whatif.caching_lever([usage], at_seven(), NOVEMBER, [D("0.50")]).scenarios
    assert (half.amount, half.saving) == (D("2.05"), D("0.75"))


def test_a_what_if_keeps_the_actual_cost_and_adds_the_modelled_change(gpt5):
    # Actual 0.0215 USD (a long day billed as it was); the model says 1 × (1,000 × 1.25 + 1,000 × 10)
    # / 10^6 = 0.01125. Through Batch the model saves half: 0.005625. What-if: 0.0215 − 0.005625.
    part = whatif.Part(D(1), {"input_tokens": D(1_000), "output_tokens": D(1_000)})
    usage = whatif.Usage(gpt5, (part,), AT, D("0.0215"))
    assert whatif.what_if_cost(usage, whatif.batched(usage.parts, D(1))) == D("0.015875")
    assert whatif.what_if_cost(usage, usage.parts) == D("0.0215")


def test_the_texts_state_the_assumptions_in_chinese_too(settings):
    from django.utils import translation

    with translation.override("zh-hans"):
        texts = whatif.texts()
    assert "4" in texts["caching"] and "缓存" in texts["caching"]
    assert "批量" in texts["batch"]
    assert texts["no_batch"] != whatif.TEXTS["no_batch"]
    with translation.override("en"):
        assert whatif.texts()["caching"].count("every 4 tokens newly read") == 1


def test_usage_with_nothing_to_move_keeps_its_cost_through_batch(gpt5):
    # Only flex requests: nothing at the standard context to move; the lever changes nothing.
    flex = whatif.Part(D(10), {"input_tokens": D(10_000), "output_tokens": D(0)}, service_tier="flex")
    usage = whatif.Usage(gpt5, (flex,), AT, D("0.00625"))
    lever = whatif.batch_lever([usage], at_seven(), NOVEMBER)

    assert (lever.available, lever.share) == (True, D(0))
    assert [(s.amount, s.saving) for s in lever.scenarios] == [(D("0.04"), D("0.00"))] * 2  # 0.04375 → 0.04
