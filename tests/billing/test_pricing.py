"""Money rules 1–3 (docs/money-rules.md) on ingestion: which price version, the cost formula, unrounded costs,
token conventions, unknown models, several providers, aliases; and the price book service."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from billing.models import ModelAlias, PriceVersion, QuarantinedRecord, UsageRecord, UsageRollup
from billing.pricing.cost import record_cost
from billing.pricing.services import LockedError, price_version_set
from tests.billing.helpers import OMIT, ingest, price, shanghai, usage

pytestmark = pytest.mark.django_db


def stored(request_id: str) -> UsageRecord:
    return UsageRecord.objects.get(request_id=request_id)


# --- Money rule 1: the version in force -------------------------------------------------


def test_it_prices_records_either_side_of_a_price_change_in_one_batch(acme_key):
    old = price(effective_from=date(2026, 1, 1), input="2.5", cached="1.25", output="10")
    new = price(effective_from=date(2026, 10, 15), input="5", cached="2.5", output="20")
    key = acme_key.key_id

    result = ingest(
        [
            usage(key, "before", occurred_at="2026-10-14T23:59:59+08:00"),
            usage(key, "at", occurred_at="2026-10-14T16:00:00Z"),  # 2026-10-15 00:00 in Shanghai
            usage(key, "after", occurred_at="2026-10-20T09:00:00+08:00"),
        ]
    )

    assert (result.accepted, result.unpriced) == (3, 0)
    assert (stored("before").price_version_id, stored("before").cost) == (old.id, Decimal("0.00325"))
    assert (stored("at").price_version_id, stored("at").cost) == (new.id, Decimal("0.0065"))
    assert (stored("after").price_version_id, stored("after").cost) == (new.id, Decimal("0.0065"))
    by_version = UsageRollup.objects.values("price_version_id").annotate(n=Sum("requests"), cost=Sum("cost"))
    assert {row["price_version_id"]: (row["n"], row["cost"]) for row in by_version} == {
        old.id: (1, Decimal("0.00325")),
        new.id: (2, Decimal("0.013")),
    }


def test_it_leaves_a_record_before_the_first_version_unpriced(acme_key):
    price(effective_from=date(2026, 10, 15))

    result = ingest([usage(acme_key.key_id, "early", occurred_at="2026-10-14T23:59:59+08:00")])

    assert (result.accepted, result.unpriced) == (1, 1)
    assert stored("early").price_version_id is None


def test_it_ignores_a_version_that_starts_after_the_record(acme_key, gpt4o):
    price(effective_from=datetime(2026, 10, 15, 2, 0, 1, tzinfo=UTC), input="100", output="100")

    ingest([usage(acme_key.key_id, "r1", occurred_at="2026-10-15T02:00:00Z")])

    assert stored("r1").price_version_id == gpt4o.id


# --- Money rule 2: the cost -------------------------------------------------------------


def test_it_charges_cached_tokens_at_the_cached_price(acme_key, gpt4o):
    ingest([usage(acme_key.key_id, "r1", input_tokens=1000, cached_input_tokens=200, output_tokens=100)])

    # (800 × 2.5 + 200 × 1.25 + 100 × 10) / 1,000,000
    record = stored("r1")
    assert (record.cost, record.currency) == (Decimal("0.00325"), "USD")


def test_it_charges_cached_tokens_at_the_input_price_when_no_cached_price_is_set(acme_key):
    price(provider="acme-ai", model="plain-1", input="3", cached=None, output="15")

    ingest(
        [usage(acme_key.key_id, "r1", model="plain-1", input_tokens=1000, cached_input_tokens=400, output_tokens=50)]
    )

    # (600 × 3 + 400 × 3 + 50 × 15) / 1,000,000
    assert stored("r1").cost == Decimal("0.00375")


def test_it_stores_the_cost_unrounded(acme_key):
    price(provider="acme-ai", model="odd-1", input="0.12345678", cached="0.01234567", output="1.23456789")

    ingest([usage(acme_key.key_id, "r1", model="odd-1", input_tokens=7, cached_input_tokens=3, output_tokens=11)])

    # (4 × 0.12345678 + 3 × 0.01234567 + 11 × 1.23456789) / 1,000,000: 14 decimal places
    assert stored("r1").cost == Decimal("0.00001411111092")
    assert UsageRollup.objects.get().cost == Decimal("0.00001411111092")


def test_it_adds_unrounded_costs_in_the_rollup(acme_key):
    price(provider="acme-ai", model="tiny-1", input="0.00000001", cached=None, output="0.00000003")

    ingest(
        [
            usage(acme_key.key_id, f"r{i}", model="tiny-1", input_tokens=1, cached_input_tokens=0, output_tokens=1)
            for i in range(3)
        ]
    )

    # each (1 × 0.00000001 + 1 × 0.00000003) / 1e6 = 4e-14
    assert stored("r0").cost == Decimal("0.00000000000004")
    assert UsageRollup.objects.get().cost == Decimal("0.00000000000012")


def test_it_prices_a_record_of_zero_tokens_at_zero(acme_key, gpt4o):
    result = ingest([usage(acme_key.key_id, "r1", input_tokens=0, cached_input_tokens=0, output_tokens=0)])

    assert (result.accepted, result.unpriced) == (1, 0)
    assert (stored("r1").price_version_id, stored("r1").cost) == (gpt4o.id, Decimal("0"))


def test_it_computes_the_cost_from_a_version(db):
    version = PriceVersion(input_per_mtok=Decimal("2.5"), cached_input_per_mtok=None, output_per_mtok=Decimal("10"))

    assert record_cost(version, 1_000_000, 500_000, 2_000_000) == Decimal("22.5")


def test_it_keeps_huge_costs_exact(acme_key):
    """The largest token count the gateway may send, at the largest price the book holds."""
    version = price(model="huge", input="9999999999.99999999", cached="0.00000001", output="9999999999.99999999")
    huge = 999_999_999_999

    cost = record_cost(version, huge, 1, huge)
    ingest([usage(acme_key.key_id, "r1", model="huge", input_tokens=huge, cached_input_tokens=1, output_tokens=huge)])

    assert cost == Decimal("19999999999969999.98000000000004")
    assert stored("r1").cost == Decimal("19999999999969999.98000000000004")
    assert UsageRollup.objects.get().cost == Decimal("19999999999969999.98000000000004")


# --- Token conventions --------------------------------------------------------------------


def test_it_normalises_anthropic_cache_tokens(acme_key):
    """Anthropic's input_tokens excludes the cache reads and writes: the stored input is the
    total, the reads are cache_read (cached_input_tokens) and the writes are cache writes, split by
    TTL, priced as input only where the version names no cache-write price (money rule 2′)."""
    price(provider="anthropic", model="claude-x", input="3", cached="0.3", output="15")

    ingest(
        [
            usage(
                acme_key.key_id,
                "r1",
                model="claude-x",
                input_tokens=100,
                cache_read_input_tokens=1000,
                cache_creation_input_tokens=500,
                cache_creation={"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 200},
                cached_input_tokens=OMIT,
                output_tokens=10,
            )
        ]
    )

    record = stored("r1")
    assert (record.input_tokens, record.cached_input_tokens, record.output_tokens) == (1600, 1000, 10)
    assert (record.cache_write_tokens, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (500, 300, 200)
    # no cache-write key: the writes at input_mtok; (600 × 3 + 1000 × 0.3 + 10 × 15) / 1,000,000
    assert record.cost == Decimal("0.00225")


def test_an_anthropic_record_whose_cached_input_tokens_differs_is_rejected(acme_key):
    price(provider="anthropic", model="claude-x", input="3", cached="0.3", output="15")

    result = ingest(
        [usage(acme_key.key_id, "r1", model="claude-x", cache_read_input_tokens=1000, cached_input_tokens=7)]
    )

    assert (result.accepted, list(result.rejected[0]["errors"])) == (0, ["cached_input_tokens"])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"cache_read_input_tokens": 40}, (140, 40)),
        ({"cache_creation_input_tokens": 40}, (140, 0)),
        ({"cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}, (100, 0)),
    ],
)
def test_it_normalises_either_anthropic_field_alone(acme_key, gpt4o, fields, expected):
    ingest([usage(acme_key.key_id, "r1", input_tokens=100, cached_input_tokens=OMIT, **fields)])

    record = stored("r1")
    assert (record.input_tokens, record.cached_input_tokens) == expected


def test_it_reads_openai_counts_as_they_are(acme_key, gpt4o):
    ingest([usage(acme_key.key_id, "r1", input_tokens=100, cached_input_tokens=100, output_tokens=0)])

    record = stored("r1")
    assert (record.input_tokens, record.cached_input_tokens, record.cost) == (100, 100, Decimal("0.000125"))


# --- Unknown models, several providers, aliases ---------------------------------------------


def test_it_stores_an_unknown_model_unpriced_and_never_at_a_default_price(acme_key, gpt4o):
    versions_before = PriceVersion.objects.count()

    result = ingest(
        [
            usage(acme_key.key_id, "r1", model="gpt-99"),
            usage(acme_key.key_id, "r2", model="gpt-99", provider="openai"),
            usage(acme_key.key_id, "r3"),
        ]
    )

    assert (result.accepted, result.unpriced, result.rejected) == (3, 2, [])
    for request_id in ("r1", "r2"):
        record = stored(request_id)
        assert (record.price_version_id, record.cost, record.currency) == (None, None, None)
    assert stored("r1").provider == ""
    assert stored("r2").provider == "openai"
    unpriced = UsageRollup.objects.filter(price_version__isnull=True)
    assert sorted(unpriced.values_list("provider", "requests", "input_tokens", "cost")) == [
        ("", 1, 1000, Decimal("0")),
        ("openai", 1, 1000, Decimal("0")),
    ]
    assert PriceVersion.objects.count() == versions_before


def test_it_rejects_a_model_several_providers_sell_without_a_provider(acme_key):
    price(provider="anthropic", model="claude-opus-4-6", input="5", cached="0.5", output="25")
    price(provider="google", model="claude-opus-4-6", input="6", cached="0.6", output="30")

    result = ingest([usage(acme_key.key_id, "r1", model="claude-opus-4-6"), usage(acme_key.key_id, "r2")])

    assert result.accepted == 1  # r2: gpt-4o has no price here; stored unpriced
    [rejected] = result.rejected
    assert (rejected["index"], rejected["request_id"], list(rejected["errors"])) == (0, "r1", ["provider"])
    assert "anthropic" in rejected["errors"]["provider"][0] and "google" in rejected["errors"]["provider"][0]
    assert QuarantinedRecord.objects.get().errors.keys() == {"provider"}
    assert not UsageRecord.objects.filter(request_id="r1").exists()


def test_it_prices_a_model_several_providers_sell_at_the_named_provider(acme_key):
    price(provider="anthropic", model="claude-opus-4-6", input="5", cached="0.5", output="25")
    google = price(provider="google", model="claude-opus-4-6", input="6", cached="0.6", output="30")

    result = ingest([usage(acme_key.key_id, "r1", model="claude-opus-4-6", provider="google")])

    assert (result.accepted, result.unpriced) == (1, 0)
    record = stored("r1")
    # (800 × 6 + 200 × 0.6 + 100 × 30) / 1,000,000
    assert (record.provider, record.price_version_id, record.cost) == ("google", google.id, Decimal("0.00792"))


def test_it_prices_an_alias_at_its_canonical_model(acme_key, gpt4o):
    ModelAlias.objects.create(provider="openai", alias="gpt-4o-2024-08-06", model="gpt-4o")

    result = ingest(
        [
            usage(acme_key.key_id, "r1", model="gpt-4o-2024-08-06"),
            usage(acme_key.key_id, "r2", model="gpt-4o-2024-08-06", provider="openai"),
        ]
    )

    assert (result.accepted, result.unpriced) == (2, 0)
    for request_id in ("r1", "r2"):
        record = stored(request_id)
        assert (record.provider, record.model, record.price_version_id) == ("openai", "gpt-4o", gpt4o.id)
        assert record.cost == Decimal("0.00325")
    assert list(UsageRollup.objects.values_list("model", "requests")) == [("gpt-4o", 2)]


def test_it_does_not_apply_another_providers_alias(acme_key, gpt4o):
    ModelAlias.objects.create(provider="openai", alias="gpt-4o-2024-08-06", model="gpt-4o")

    result = ingest([usage(acme_key.key_id, "r1", model="gpt-4o-2024-08-06", provider="azure")])

    assert result.unpriced == 1
    assert (stored("r1").provider, stored("r1").model) == ("azure", "gpt-4o-2024-08-06")


def test_it_prices_in_the_versions_currency(acme_key):
    version = price(provider="deepseek", model="deepseek-chat", currency="CNY", input="2", cached="0.5", output="8")

    ingest([usage(acme_key.key_id, "r1", model="deepseek-chat")])

    record = stored("r1")
    assert (record.price_version_id, record.currency, record.cost) == (version.id, "CNY", Decimal("0.0025"))
    assert UsageRollup.objects.get().currency == "CNY"


# --- The price book service ------------------------------------------------------------------


def test_it_overrides_a_version_with_the_same_start(db):
    first = price(input="2.5")

    second = price(input="2.0")

    assert second.id == first.id
    assert PriceVersion.objects.get().input_per_mtok == Decimal("2.0")


def test_it_refuses_to_change_a_locked_version(db):
    version = price()
    PriceVersion.objects.filter(pk=version.pk).update(locked_at=timezone.now())

    with pytest.raises(LockedError):
        price(input="9")

    assert PriceVersion.objects.get().input_per_mtok == Decimal("2.5")


def test_it_refuses_a_cached_price_above_the_input_price(db):
    with pytest.raises(ValidationError) as excinfo:
        price_version_set(
            provider="openai",
            model="gpt-4o",
            effective_from=shanghai(2026, 1, 1),
            currency="USD",
            input_per_mtok=Decimal("1"),
            cached_input_per_mtok=Decimal("1.5"),
            output_per_mtok=Decimal("4"),
        )

    assert "cached_input_per_mtok" in excinfo.value.message_dict
    assert PriceVersion.objects.count() == 0
