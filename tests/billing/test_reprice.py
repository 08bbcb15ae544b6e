"""reprice_usage YYYY-MM: unpriced records get their price once it exists; rollups follow."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing.metering.reprice import usage_reprice
from billing.models import ModelAlias, UsageRecord, UsageRollup
from tests.billing.helpers import ingest, price, record_rows, record_totals, rollup_rows, rollup_totals, usage

pytestmark = pytest.mark.django_db

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def unpriced(acme_project, acme_key):
    """Three October calls of gpt-9 (two days) and one November call, before gpt-9 had a price."""
    key = acme_key.key_id
    result = ingest(
        [
            usage(key, "a", model="gpt-9", occurred_at="2026-10-05T10:00:00+08:00"),
            usage(key, "b", model="gpt-9", output_tokens=300, occurred_at="2026-10-05T11:00:00+08:00"),
            usage(key, "c", model="gpt-9", input_tokens=5000, occurred_at="2026-10-31T23:59:59+08:00"),
            usage(key, "n", model="gpt-9", occurred_at="2026-10-31T16:00:00Z"),  # November in Shanghai
        ]
    )
    assert result.unpriced == 4
    return acme_key


def unpriced_rollups():
    return sorted(
        UsageRollup.objects.filter(price_version__isnull=True).values_list("period", "day", "requests", "cost")
    )


def test_it_prices_unpriced_records_once_a_price_exists(unpriced):
    version = price(
        provider="openai", model="gpt-9", effective_from=date(2026, 10, 1), input="4", cached="1", output="16"
    )
    before = rollup_totals()

    result = usage_reprice(period=OCTOBER)

    assert result == {"repriced": 3, "unpriced": 0}
    records = {r.request_id: r for r in UsageRecord.objects.all()}
    # (800 × 4 + 200 × 1 + 100 × 16) / 1e6; b: 300 output; c: 5000 input
    assert {rid: records[rid].cost for rid in "abc"} == {
        "a": Decimal("0.005"),
        "b": Decimal("0.0082"),
        "c": Decimal("0.021"),
    }
    assert {(records[rid].provider, records[rid].price_version_id, records[rid].currency) for rid in "abc"} == {
        ("openai", version.id, "USD")
    }
    assert (records["n"].price_version_id, records["n"].cost) == (None, None)
    priced = sorted(
        UsageRollup.objects.filter(price_version=version).values_list("provider", "day", "requests", "cost")
    )
    assert priced == [
        ("openai", date(2026, 10, 5), 2, Decimal("0.0132")),
        ("openai", date(2026, 10, 31), 1, Decimal("0.021")),
    ]
    # the October unpriced rows are gone; November's stays
    assert unpriced_rollups() == [(date(2026, 11, 1), date(2026, 11, 1), 1, Decimal("0"))]
    after = rollup_totals()
    assert {k: v[:4] for k, v in after.items()} == {k: v[:4] for k, v in before.items()}  # requests and tokens kept
    assert after[(unpriced.customer_id, OCTOBER)][4] == Decimal("0.0342")
    assert record_totals() == after


def test_it_changes_nothing_the_second_time(unpriced):
    price(provider="openai", model="gpt-9", effective_from=date(2026, 10, 1), input="4", cached="1", output="16")
    usage_reprice(period=OCTOBER)
    rollups, records = rollup_rows(), record_rows()

    assert usage_reprice(period=OCTOBER) == {"repriced": 0, "unpriced": 0}
    assert rollup_rows() == rollups
    assert record_rows() == records


def test_it_leaves_records_unpriced_while_no_price_applies(unpriced):
    rollups = rollup_rows()
    # a version from November does not price October calls (money rule 1, docs/money-rules.md)
    price(provider="openai", model="gpt-9", effective_from=date(2026, 11, 1), input="4", cached="1", output="16")

    assert usage_reprice(period=OCTOBER) == {"repriced": 0, "unpriced": 3}
    assert rollup_rows() == rollups


def test_it_prices_only_the_models_that_now_have_a_price(acme_key):
    ingest([usage(acme_key.key_id, "a", model="gpt-9"), usage(acme_key.key_id, "z", model="zeta-1")])
    price(provider="openai", model="gpt-9", effective_from=date(2026, 10, 1), input="4", cached="1", output="16")

    assert usage_reprice(period=OCTOBER) == {"repriced": 1, "unpriced": 1}
    rollups = sorted(
        (m, v is None, n) for m, v, n in UsageRollup.objects.values_list("model", "price_version", "requests")
    )
    assert rollups == [("gpt-9", False, 1), ("zeta-1", True, 1)]
    assert record_totals() == rollup_totals()


def test_it_merges_into_a_priced_rollup_that_already_exists(acme_key):
    ingest([usage(acme_key.key_id, "early", model="gpt-9")])
    version = price(
        provider="openai", model="gpt-9", effective_from=date(2026, 10, 1), input="4", cached="1", output="16"
    )
    ingest([usage(acme_key.key_id, "later", model="gpt-9", occurred_at="2026-10-15T20:00:00+08:00")])

    assert usage_reprice(period=OCTOBER) == {"repriced": 1, "unpriced": 0}
    rollup = UsageRollup.objects.get()
    assert (rollup.price_version_id, rollup.requests, rollup.input_tokens, rollup.cost) == (
        version.id,
        2,
        2000,
        Decimal("0.01"),
    )


def test_it_prices_an_alias_added_later_at_its_canonical_model(acme_key, gpt4o):
    ingest([usage(acme_key.key_id, "a", model="gpt-4o-2099-01-01")])
    ModelAlias.objects.create(provider="openai", alias="gpt-4o-2099-01-01", model="gpt-4o")

    assert usage_reprice(period=OCTOBER) == {"repriced": 1, "unpriced": 0}
    record = UsageRecord.objects.get()
    assert (record.provider, record.model, record.price_version_id, record.cost) == (
        "openai",
        "gpt-4o",
        gpt4o.id,
        Decimal("0.00325"),
    )
    assert list(UsageRollup.objects.values_list("model", "requests")) == [("gpt-4o", 1)]


def test_it_works_in_chunks(unpriced):
    price(provider="openai", model="gpt-9", effective_from=date(2026, 10, 1), input="4", cached="1", output="16")

    assert usage_reprice(period=OCTOBER, batch_size=1) == {"repriced": 3, "unpriced": 0}
    assert record_totals() == rollup_totals()
    assert len(unpriced_rollups()) == 1


def test_it_prints_counts_from_the_command(unpriced):
    price(provider="openai", model="gpt-9", effective_from=date(2026, 10, 1), input="4", cached="1", output="16")
    first, second, november = io.StringIO(), io.StringIO(), io.StringIO()

    call_command("reprice_usage", "2026-10", stdout=first)
    call_command("reprice_usage", "2026-10", stdout=second)
    call_command("reprice_usage", "2026-11", stdout=november)

    assert first.getvalue().strip() == "2026-10: 3 records repriced, 0 still unpriced"
    assert second.getvalue().strip() == "2026-10: 0 records repriced, 0 still unpriced"
    # October's runs left the November call alone
    assert november.getvalue().strip() == "2026-11: 1 records repriced, 0 still unpriced"


@pytest.mark.parametrize("period", ["2026-13", "last month", "2026-1"])
def test_it_refuses_a_bad_period_in_the_command(db, period):
    with pytest.raises(CommandError):
        call_command("reprice_usage", period, stdout=io.StringIO())
