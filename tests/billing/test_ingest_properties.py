"""Properties: retries, reorderings and splits of a set of records give the same totals as one
clean submission; and the cost formula is exact Decimal arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.metering.records import MAX_TOKENS
from billing.metering.rollups import UNIT_FIELDS
from billing.models import PriceVersion, UsageRecord
from billing.pricing.cost import record_cost
from tests.billing.helpers import (
    SHANGHAI,
    ingest,
    price,
    record_totals,
    rollup_rows,
    rollup_totals,
    usage,
    usage_tables_clear,
)

# --- record_cost: pure ----------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=Decimal("9999999999.99999999"), places=8, allow_nan=False)
small_prices = st.decimals(min_value=0, max_value=1000, places=8, allow_nan=False)


@st.composite
def usages(draw, limit: int = MAX_TOKENS - 1):
    input_tokens = draw(st.integers(0, limit))
    cached = draw(st.integers(0, input_tokens))
    output = draw(st.integers(0, limit))
    return input_tokens, cached, output


def version(input_price, cached_price, output_price) -> PriceVersion:
    return PriceVersion(input_per_mtok=input_price, cached_input_per_mtok=cached_price, output_per_mtok=output_price)


@settings(max_examples=300)
@given(usage=usages(), input_price=prices, cached_price=st.none() | prices, output_price=prices)
def test_it_computes_the_cost_exactly(usage, input_price, cached_price, output_price):
    input_tokens, cached, output = usage
    effective_cached = input_price if cached_price is None else cached_price

    cost = record_cost(version(input_price, cached_price, output_price), input_tokens, cached, output)

    expected = (
        (input_tokens - cached) * Fraction(input_price)
        + cached * Fraction(effective_cached)
        + output * Fraction(output_price)
    ) / 1_000_000
    assert Fraction(cost) == expected
    # and it fits the stored column, numeric(38, 16), without rounding
    assert -cost.as_tuple().exponent <= 16
    assert cost.adjusted() < 38 - 16


@settings(max_examples=200)
@given(usage=usages(limit=10**9), k=st.integers(1, 1000), input_price=small_prices, output_price=small_prices)
def test_it_scales_the_cost_linearly(usage, k, input_price, output_price):
    input_tokens, cached, output = usage
    price_version = version(input_price, None, output_price)

    scaled = record_cost(price_version, k * input_tokens, k * cached, k * output)

    assert scaled == k * record_cost(price_version, input_tokens, cached, output)


@settings(max_examples=200)
@given(
    a=usages(limit=10**9),
    b=usages(limit=10**9),
    input_price=small_prices,
    cached_price=small_prices,
    output_price=small_prices,
)
def test_it_adds_the_costs_of_parts(a, b, input_price, cached_price, output_price):
    price_version = version(input_price, cached_price, output_price)
    whole = tuple(x + y for x, y in zip(a, b, strict=True))

    assert record_cost(price_version, *whole) == record_cost(price_version, *a) + record_cost(price_version, *b)


@settings(max_examples=100)
@given(usage=usages(limit=10**9), input_price=small_prices, output_price=small_prices)
def test_it_charges_cached_input_at_the_input_price_by_default(usage, input_price, output_price):
    assert record_cost(version(input_price, None, output_price), *usage) == record_cost(
        version(input_price, input_price, output_price), *usage
    )


# --- Retries, reorderings and splits: against the database --------------------------------

MOMENTS = [
    datetime(2026, 10, 1, 0, 0, tzinfo=SHANGHAI),
    datetime(2026, 10, 14, 23, 59, 59, tzinfo=SHANGHAI),  # just before the price change
    datetime(2026, 10, 15, 0, 0, tzinfo=SHANGHAI),  # the price change
    datetime(2026, 10, 31, 23, 59, 59, tzinfo=SHANGHAI),
    datetime(2026, 11, 1, 0, 0, tzinfo=SHANGHAI),  # the next month
]
MODELS = ["gpt-4o", "gpt-4o-mini", "mystery-1"]


@st.composite
def corpora(draw):
    """Distinct records: request_id r{i}, a key (0 or 1), a model, tokens and a moment."""
    n = draw(st.integers(1, 12))
    records = []
    for i in range(n):
        input_tokens, cached, output = draw(usages(limit=10**7))
        records.append(
            {
                "i": i,
                "key": draw(st.integers(0, 1)),
                "model": draw(st.sampled_from(MODELS)),
                "input_tokens": input_tokens,
                "cached_input_tokens": cached,
                "output_tokens": output,
                "moment": draw(st.sampled_from(MOMENTS)),
            }
        )
    return records


@st.composite
def schedules(draw, n: int):
    """Batches of record positions: retries (repeats), any order, any split; each record sent
    at least once. Each sending picks its own offset for the time (same instant)."""
    batches = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n), max_size=4))
    missing = sorted(set(range(n)) - {i for batch in batches for i in batch})
    if missing:
        batches.insert(draw(st.integers(0, len(batches))), draw(st.permutations(missing)))
    return [[(i, draw(st.booleans())) for i in batch] for batch in batches]


def render(record: dict, keys: list, utc: bool) -> dict:
    moment = record["moment"]
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if utc else moment.isoformat()
    return usage(
        keys[record["key"]].key_id,
        f"r{record['i']}",
        model=record["model"],
        input_tokens=record["input_tokens"],
        cached_input_tokens=record["cached_input_tokens"],
        output_tokens=record["output_tokens"],
        occurred_at=text,
    )


@pytest.fixture
def price_book(db):
    price(model="gpt-4o", input="2.5", cached="1.25", output="10")
    price(
        model="gpt-4o", effective_from=datetime(2026, 10, 15, tzinfo=SHANGHAI), input="2.2", cached="1.1", output="8.8"
    )
    price(model="gpt-4o-mini", input="0.15", cached=None, output="0.6")


@pytest.mark.django_db
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_it_gives_the_totals_of_one_clean_submission_whatever_the_retries_and_splits(
    acme_key, other_key, price_book, data
):
    keys = [acme_key, other_key]
    corpus = data.draw(corpora(), label="corpus")
    schedule = data.draw(schedules(len(corpus)), label="schedule")

    usage_tables_clear()
    clean = ingest([render(r, keys, utc=False) for r in corpus])
    assert clean.accepted == len(corpus)
    expected_rollups, expected_records = rollup_rows(), UsageRecord.objects.count()

    usage_tables_clear()
    accepted = duplicates = 0
    for batch in schedule:
        result = ingest([render(corpus[i], keys, utc) for i, utc in batch])
        assert result.conflicts == [] and result.rejected == []
        accepted += result.accepted
        duplicates += result.duplicates

    assert accepted == len(corpus)
    assert accepted + duplicates == sum(len(batch) for batch in schedule)
    assert UsageRecord.objects.count() == expected_records == len(corpus)
    assert rollup_rows() == expected_rollups
    assert record_totals() == rollup_totals()


# --- The two record validators agree ------------------------------------------------------

VALIDATION_NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
text = st.one_of(st.text(min_size=0, max_size=140), st.none(), st.integers(), st.booleans())
tokens = st.one_of(
    st.integers(min_value=-5, max_value=MAX_TOKENS + 5),
    st.integers(min_value=0, max_value=2000),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
)
times = st.one_of(
    st.datetimes(
        min_value=datetime(2019, 12, 1), max_value=datetime(2026, 11, 16), timezones=st.sampled_from([UTC, SHANGHAI])
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(2019, 12, 1), max_value=datetime(2026, 11, 16)).map(lambda d: d.isoformat()),
    st.sampled_from(["", "yesterday", "2026-11-15T10:04:59+08:00", "2026-11-15T02:05:00Z", "2026-11-15T02:05:01Z"]),
    st.none(),
    st.integers(),
)


WILD = {
    "request_id": text,
    "key_id": text,
    "model": text,
    "provider": text,
    "input_tokens": tokens,
    "output_tokens": tokens,
    "cached_input_tokens": tokens,
    "occurred_at": times,
    "cache_read_input_tokens": tokens,
    "cache_creation_input_tokens": tokens,
    # the price dimensions: small counts, so that parts over wholes come up
    **{name: st.one_of(tokens, st.integers(0, 4)) for name in UNIT_FIELDS},
    "cache_read_tokens": st.one_of(tokens, st.integers(0, 3)),
    "processing": st.sampled_from(["standard", "batch", "overnight", None, 1]),
    "service_tier": st.one_of(st.sampled_from(["default", "standard", "flex", "Flex", "", None]), st.text(max_size=22)),
}


def near(limit: int, min_size: int = 1):
    """Strings of any short length, or of a length at the field's limit (limit ± 1)."""
    return st.one_of(st.text(min_size=min_size, max_size=8), st.integers(limit - 1, limit + 1).map(lambda n: "é" * n))


@st.composite
def raw_records(draw):
    """Gateway records as JSON decodes them: a well-formed one (small token counts, so that
    cached > input comes up), then up to two fields replaced by anything and some dropped."""
    record = {
        "request_id": draw(near(128)),
        "key_id": draw(near(40)),
        "model": draw(near(100)),
        "provider": draw(near(40, min_size=0)),
        "input_tokens": draw(st.integers(0, 3)),
        "output_tokens": draw(st.integers(0, 20)),
        "cached_input_tokens": draw(st.integers(0, 3)),
        "occurred_at": draw(times),
    }
    if draw(st.booleans()):
        record["cache_read_input_tokens"] = draw(st.integers(0, 20))
    for name in draw(st.lists(st.sampled_from(sorted(UNIT_FIELDS)), max_size=4)):
        record[name] = draw(st.integers(0, 4))
    for name in draw(st.lists(st.sampled_from(sorted(WILD)), max_size=2)):
        record[name] = draw(WILD[name])
    for name in draw(st.lists(st.sampled_from(sorted(record)), max_size=2)):
        record.pop(name, None)
    return record


@settings(max_examples=3000, deadline=None)
@given(record=raw_records())
def test_the_fast_validator_accepts_exactly_what_the_full_check_accepts(record):
    from billing.metering.records import FIELDS, FUTURE_TOLERANCE, _validate_fast, _validate_full

    full, errors = _validate_full(record, 3, VALIDATION_NOW)
    fast = _validate_fast(record, 3, VALIDATION_NOW + FUTURE_TOLERANCE)
    if fast is not None:
        assert full == fast  # same normalisation, same digest
    elif full is not None:
        # The fast path declines only what it does not handle: Anthropic's fields, and parts
        # it leaves to the full decomposition (added counts).
        assert record.keys() - FIELDS
    else:
        assert errors
