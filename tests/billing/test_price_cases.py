"""Money rule 2′ (docs/money-rules.md) by hand, with the providers' own figures, including what genai-prices cannot
model (weekday windows). Each case writes its arithmetic in a comment."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.models import PriceVersion
from billing.pricing.cost import COUNT_FIELDS, count_errors, exact_context, price_plan, record_cost, variant_name

AT = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai

# Anthropic, Claude Sonnet 4.5 (anthropic.com/pricing, "Prompt caching" and "Long context"):
# input $3, 5-minute cache writes $3.75, 1-hour writes $6, cache reads $0.30, output $15 per
# MTok; a request above 200k input tokens pays $6 / $7.50 / $12 / $0.60 / $22.50 for all its
# tokens; web search $10 per 1,000; Batch 50 % of input and output.
SONNET = {
    "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
    "cache_read_mtok": {"base": "0.3", "tiers": [{"start": 200000, "price": "0.6"}]},
    "cache_write_mtok": {"base": "3.75", "tiers": [{"start": 200000, "price": "7.5"}]},
    "cache_write_1h_mtok": {"base": "6", "tiers": [{"start": 200000, "price": "12"}]},
    "output_mtok": {"base": "15", "tiers": [{"start": 200000, "price": "22.5"}]},
    "web_searches_kcount": "10",
}
BATCH = [{"when": {"processing": "batch"}, "prices": {"input_mtok": "1.5", "output_mtok": "7.5"}}]


def plan(prices, variants=(), windows=()):
    return price_plan(PriceVersion(prices=prices, variants=list(variants), windows=list(windows)))


def test_it_charges_cache_writes_at_their_own_prices():
    counts = {
        "input_tokens": 10_000,
        "cache_read_tokens": 4_000,
        "cache_write_tokens": 3_000,
        "cache_write_5m_tokens": 2_000,
        "cache_write_1h_tokens": 1_000,
        "output_tokens": 500,
    }
    # (3,000 uncached × 3 + 4,000 × 0.30 + 2,000 × 3.75 + 1,000 × 6 + 500 × 15) / 10^6
    # = (9,000 + 1,200 + 7,500 + 6,000 + 7,500) / 10^6 = 0.0312
    assert plan(SONNET).cost(counts, AT) == Decimal("0.0312")


def test_it_charges_cache_writes_at_the_input_price_where_the_version_has_no_write_price():
    # The old book (input/cached/output only): a write falls to input_mtok, its chain's end.
    counts = {"input_tokens": 1_600, "cache_read_tokens": 1_000, "cache_write_tokens": 500, "output_tokens": 10}
    # (600 × 3 + 1,000 × 0.3 + 10 × 15) / 10^6 = 0.00225
    flat = {"input_mtok": "3", "cache_read_mtok": "0.3", "output_mtok": "15"}
    assert plan(flat).cost(counts, AT) == Decimal("0.00225")
    # A 5-minute write with only cache_write_mtok priced: 500 × 3.75 instead of 500 × 3.
    assert plan({**flat, "cache_write_mtok": "3.75"}).cost({**counts, "cache_write_5m_tokens": 500}, AT) == Decimal(
        "0.002625"
    )


def test_it_prices_a_long_context_request_whole_at_the_tier_above_its_start():
    at_start = {"input_tokens": 200_000, "output_tokens": 1_000}
    above = {"input_tokens": 200_001, "output_tokens": 1_000}
    # 200,000 × 3 + 1,000 × 15 = 615,000 → 0.615 (the tier starts *above* 200,000)
    assert plan(SONNET).cost(at_start, AT) == Decimal("0.615")
    # 200,001 × 6 + 1,000 × 22.5 = 1,222,506 → 1.222506 (all tokens, not the excess)
    assert plan(SONNET).cost(above, AT) == Decimal("1.222506")


def test_it_prices_batch_through_its_variant_and_holds_an_unnamed_context():
    counts = {"input_tokens": 1_000, "cache_read_tokens": 400, "output_tokens": 100}
    sonnet = plan(SONNET, BATCH)
    # standard: 600 × 3 + 400 × 0.3 + 100 × 15 = 3,420 → 0.00342
    assert sonnet.cost(counts, AT) == Decimal("0.00342")
    assert sonnet.cost(counts, AT, service_tier="standard") == Decimal("0.00342")
    # batch: 600 × 1.5 + 400 × 0.3 (not in the variant: standard) + 100 × 7.5 = 1,770
    assert sonnet.cost(counts, AT, processing="batch") == Decimal("0.00177")
    # No variant names "flex": unpriced (held), never the standard price.
    assert sonnet.cost(counts, AT, service_tier="flex") is None
    assert sonnet.cost(counts, AT, processing="batch", service_tier="priority") is None


def test_it_resolves_variants_key_by_key_first_match_first():
    # OpenAI gpt-5 (platform.openai.com/pricing): input 1.25, cached 0.125, output 10; flex
    # halves them; priority doubles them. A batch+flex record takes each key from the first
    # variant naming it.
    variants = [
        {"when": {"service_tier": "flex"}, "prices": {"input_mtok": "0.625", "output_mtok": "5"}},
        {"when": {"processing": "batch"}, "prices": {"input_mtok": "0.6", "cache_read_mtok": "0.06"}},
    ]
    gpt5 = plan({"input_mtok": "1.25", "cache_read_mtok": "0.125", "output_mtok": "10"}, variants)
    counts = {"input_tokens": 1_000_000, "cache_read_tokens": 0, "output_tokens": 1_000_000}
    # input from flex (0.625), output from flex (5) → 5.625
    assert gpt5.cost(counts, AT, processing="batch", service_tier="flex") == Decimal("5.625")
    assert variant_name("batch", "flex") == "batch+flex"
    assert variant_name("standard", "default") == variant_name("standard", "standard") == "standard"
    assert variant_name("standard", "priority") == "priority"


def test_it_charges_web_searches_per_thousand_and_holds_them_without_a_price():
    # 2 searches × $10 / 1,000 = 0.02, plus 1,000 input × 3 / 10^6 = 0.003
    assert plan(SONNET).cost({"input_tokens": 1_000, "web_searches": 2}, AT) == Decimal("0.023")
    assert plan({"input_mtok": "3", "output_mtok": "15"}).cost({"input_tokens": 1_000, "web_searches": 2}, AT) is None


def test_it_charges_a_per_request_fee_only_where_the_version_has_one():
    # $0.50 per 1,000 requests: 0.0005 a record, plus 100 × 1 / 10^6
    fee = plan({"input_mtok": "1", "requests_kcount": "0.5"})
    assert fee.cost({"input_tokens": 100}, AT) == Decimal("0.0006")
    assert plan({"input_mtok": "1"}).cost({"input_tokens": 100}, AT) == Decimal("0.0001")


def test_it_holds_an_input_only_model_with_output_tokens():
    embeddings = plan({"input_mtok": "0.02"})
    assert embeddings.cost({"input_tokens": 1_000_000}, AT) == Decimal("0.02")
    assert embeddings.cost({"input_tokens": 1_000, "output_tokens": 1}, AT) is None


# DeepSeek V4 Flash (api-docs.deepseek.com, "Off-peak discount"; genai-prices' comment on
# deepseek-v4-flash): peak UTC 01:00–04:00 and 06:00–10:00 = 09:00–12:00 and 14:00–18:00 in
# Beijing, Monday to Friday; weekends off-peak all day. Peak 0.30 / 1.20, off-peak 0.15 / 0.60
# per MTok. genai-prices has no weekday condition (it charges peak on weekends too).
FLASH_OFF_PEAK = {"input_mtok": "0.15", "cache_read_mtok": "0.003", "output_mtok": "0.6"}
FLASH_PEAK = {"input_mtok": "0.3", "cache_read_mtok": "0.006", "output_mtok": "1.2"}
WEEKDAYS = [1, 2, 3, 4, 5]
FLASH_WINDOWS = [
    {"start": "09:00", "end": "12:00", "weekdays": WEEKDAYS, "prices": FLASH_PEAK},
    {"start": "14:00", "end": "18:00", "weekdays": WEEKDAYS, "prices": FLASH_PEAK},
]
MILLION_EACH = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 3, 1, 0, tzinfo=UTC), "1.5"),  # Tue 09:00 Beijing: peak, 0.3 + 1.2
        (datetime(2026, 11, 3, 0, 59, 59, tzinfo=UTC), "0.75"),  # Tue 08:59:59: off-peak, 0.15 + 0.6
        (datetime(2026, 11, 3, 4, 0, tzinfo=UTC), "0.75"),  # Tue 12:00: the end is exclusive
        (datetime(2026, 11, 3, 9, 59, tzinfo=UTC), "1.5"),  # Tue 17:59: the afternoon window
        (datetime(2026, 11, 7, 2, 0, tzinfo=UTC), "0.75"),  # Sat 10:00: weekends off-peak all day
        (datetime(2026, 11, 8, 7, 0, tzinfo=UTC), "0.75"),  # Sun 15:00
        (datetime(2026, 11, 6, 9, 0, tzinfo=UTC), "1.5"),  # Fri 17:00
    ],
)
def test_it_prices_weekday_peak_windows(moment, expected):
    flash = plan(FLASH_OFF_PEAK, windows=FLASH_WINDOWS)
    assert flash.cost(MILLION_EACH, moment) == Decimal(expected)


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts():
    # Monday 22:00 → Tuesday 02:00 at 2 per MTok; otherwise 1.
    night = plan(
        {"input_mtok": "1"},
        windows=[{"start": "22:00", "end": "02:00", "weekdays": [1], "prices": {"input_mtok": "2"}}],
    )
    million = {"input_tokens": 1_000_000}
    assert night.cost(million, datetime(2026, 11, 2, 14, 0, tzinfo=UTC)) == Decimal("2")  # Mon 22:00 Beijing
    assert night.cost(million, datetime(2026, 11, 2, 17, 59, tzinfo=UTC)) == Decimal("2")  # Tue 01:59
    assert night.cost(million, datetime(2026, 11, 2, 18, 0, tzinfo=UTC)) == Decimal("1")  # Tue 02:00
    assert night.cost(million, datetime(2026, 11, 1, 17, 0, tzinfo=UTC)) == Decimal("1")  # Mon 01:00: Sunday's


def test_it_keeps_huge_costs_exact():
    huge = 999_999_999_999
    version = plan(
        {"input_mtok": "9999999999.99999999", "cache_read_mtok": "0.00000001", "output_mtok": "9999999999.99999999"}
    )
    counts = {"input_tokens": huge, "cache_read_tokens": 1, "output_tokens": huge}
    assert version.cost(counts, AT) == Decimal("19999999999969999.98000000000004")


def test_it_names_the_part_larger_than_its_whole():
    assert count_errors({"input_tokens": 10, "cache_read_tokens": 8, "cache_write_tokens": 5}) == {
        "cache_read_tokens": "cache_read_tokens + cache_write_tokens exceed input_tokens (10)"
    }
    assert "cache_write_1h_tokens" in count_errors(
        {"input_tokens": 10, "cache_write_tokens": 2, "cache_write_1h_tokens": 3}
    )
    assert count_errors({"input_tokens": 10, "cache_read_tokens": 10, "output_tokens": 1}) == {}


prices = st.decimals(min_value=0, max_value=1000, places=6)
tokens = st.integers(0, 10**9)


@settings(max_examples=200, deadline=None)
@given(
    inp=prices,
    cached=st.one_of(st.none(), prices),
    out=prices,
    input_tokens=tokens,
    share=st.fractions(0, 1),
    output=tokens,
)
def test_record_cost_is_the_plan_on_three_counts(inp, cached, out, input_tokens, share, output):
    """Rule 2 (the shorthand) and rule 2′ agree wherever both apply."""
    version = PriceVersion(input_per_mtok=inp, cached_input_per_mtok=cached, output_per_mtok=out)
    read = int(input_tokens * share)
    counts = {"input_tokens": input_tokens, "cache_read_tokens": read, "output_tokens": output}
    with exact_context():
        assert price_plan(version).cost(counts, AT) == record_cost(version, input_tokens, read, output)
    assert set(counts) <= set(COUNT_FIELDS)
