"""Reconciliation of November 2026 (tests/workspace/helpers.py): margins computed by hand
with Decimal, a >1 % metering disagreement flagged and a 0.5 % one not, cost allocated to
customers by their share of the day's tokens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.billing.close_helpers import NOV, travel
from tests.workspace.helpers import november_usage, provider_exports
from workspace.selectors import reconciliation

pytestmark = pytest.mark.django_db


def rows_by_model(rec):
    return {row.model: row for row in rec.rows}


def test_it_computes_cost_revenue_and_margin_per_model():
    november_usage()
    provider_exports()
    with travel(2026, 12, 5):
        rec = reconciliation(period=NOV)
    rows = rows_by_model(rec)
    assert set(rows) == {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4"}

    gpt = rows["gpt-4o"]
    assert (gpt.ours.input_tokens, gpt.ours.output_tokens) == (4_000_000, 400_000)
    assert (gpt.theirs.input_tokens, gpt.theirs.output_tokens) == (4_020_000, 400_000)
    assert gpt.provider_cost == Decimal("10.0") and gpt.provider_currency == "USD"
    assert gpt.cost == Decimal("71.00")  # $10 × 7.1
    assert gpt.revenue == Decimal("99.40")  # 24.85 + 74.55 on the issued bills
    assert gpt.margin == Decimal("28.40")
    assert gpt.margin_percent == Decimal("28.57")  # 28.40 / 99.40 = 28.5714…
    assert gpt.estimated is False

    mini = rows["gpt-4o-mini"]
    assert (mini.cost, mini.revenue, mini.margin, mini.margin_percent) == (
        Decimal("0.71"),
        Decimal("1.07"),
        Decimal("0.36"),
        Decimal("33.64"),  # 0.36 / 1.07 = 33.6448…
    )
    claude = rows["claude-sonnet-4"]
    assert claude.theirs is None  # no Anthropic usage export: nothing to compare
    assert (claude.cost, claude.revenue, claude.margin, claude.margin_percent) == (
        Decimal("21.30"),
        Decimal("31.95"),
        Decimal("10.65"),
        Decimal("33.33"),
    )
    assert rec.cost == Decimal("93.01")
    assert rec.revenue == Decimal("132.42")
    assert rec.margin == Decimal("39.41")
    assert rec.margin_percent == Decimal("29.76")  # 39.41 / 132.42 = 29.7614…
    assert rec.missing_rates == []


def test_it_flags_a_disagreement_over_one_percent_and_not_half_a_percent():
    november_usage()
    provider_exports()
    with travel(2026, 12, 5):
        rec = reconciliation(period=NOV)
    rows = rows_by_model(rec)
    assert rows["gpt-4o"].token_difference_percent == Decimal("-0.50")  # −20,000 / 4,020,000
    assert rows["gpt-4o"].disagrees is False
    assert rows["gpt-4o-mini"].token_difference_percent == Decimal("-1.96")  # −20,000 / 1,020,000
    assert rows["gpt-4o-mini"].disagrees is True
    assert rows["claude-sonnet-4"].disagrees is False
    assert [row.model for row in rec.disagreements] == ["gpt-4o-mini"]


def test_it_allocates_provider_cost_to_customers_by_their_share_of_the_days_tokens():
    november_usage()
    provider_exports()
    with travel(2026, 12, 5):
        rec = reconciliation(period=NOV)
    rows = {(r.customer, r.model): r for r in rec.customer_rows}
    # 11-10 gpt-4o: ACME 1.1 M of 4.4 M tokens → ¼ of $9 = $2.25 → ¥15.975 → ¥15.98;
    # BEIDOU ¾ → $6.75 → ¥47.925 → ¥47.93. The $1 of 11-11 (no metering) stays unallocated.
    acme_gpt = rows[("ACME", "gpt-4o")]
    assert (acme_gpt.tokens, acme_gpt.cost, acme_gpt.revenue) == (1_100_000, Decimal("15.98"), Decimal("24.85"))
    assert (acme_gpt.margin, acme_gpt.margin_percent) == (Decimal("8.87"), Decimal("35.69"))
    beidou_gpt = rows[("BEIDOU", "gpt-4o")]
    assert (beidou_gpt.tokens, beidou_gpt.cost, beidou_gpt.revenue) == (3_300_000, Decimal("47.93"), Decimal("74.55"))
    assert (beidou_gpt.margin, beidou_gpt.margin_percent) == (Decimal("26.62"), Decimal("35.71"))
    assert (rows[("ACME", "claude-sonnet-4")].cost, rows[("ACME", "claude-sonnet-4")].margin) == (
        Decimal("21.30"),
        Decimal("10.65"),
    )
    assert rows[("ACME", "gpt-4o-mini")].cost == Decimal("0.71")
    assert set(rows) == {("ACME", "gpt-4o"), ("BEIDOU", "gpt-4o"), ("ACME", "gpt-4o-mini"), ("ACME", "claude-sonnet-4")}


def test_an_unbilled_customers_revenue_is_the_usage_summary_marked_estimated():
    november_usage(close_beidou=False)
    provider_exports()
    with travel(2026, 12, 5):
        rec = reconciliation(period=NOV)
    rows = {(r.customer, r.model): r for r in rec.customer_rows}
    assert rows[("BEIDOU", "gpt-4o")].revenue == Decimal("74.55")  # $10.50 × 7.1, as the summary says
    assert rows[("BEIDOU", "gpt-4o")].estimated is True
    assert rows[("ACME", "gpt-4o")].estimated is False
    assert rows_by_model(rec)["gpt-4o"].estimated is True
    assert rows_by_model(rec)["gpt-4o"].revenue == Decimal("99.40")


def test_a_missing_rate_leaves_the_cost_out_and_says_so():
    november_usage()
    provider_exports()
    from billing.models import ExchangeRate

    ExchangeRate.objects.filter(period=NOV).update(locked_at=None)
    ExchangeRate.objects.filter(period=NOV).delete()
    with travel(2026, 12, 5):
        rec = reconciliation(period=NOV)
    assert rec.missing_rates == ["USD"]
    assert all(row.cost is None and row.margin is None for row in rec.rows)
    assert (rec.cost, rec.margin, rec.margin_percent) == (None, None, None)  # no cost known: no margin claimed


def test_a_model_the_provider_saw_none_of_is_a_disagreement_without_a_ratio():
    from workspace.selectors import ModelRow, Tokens

    row = ModelRow("openai", "gpt-4o", ours=Tokens(input_tokens=10), theirs=Tokens())
    assert row.token_difference_percent is None
    assert row.disagrees is True
    assert ModelRow("openai", "gpt-4o", ours=Tokens(), theirs=Tokens()).disagrees is False
    # Exactly 1 % apart is not "more than 1 %"; 1.01 % is.
    assert ModelRow("openai", "m", ours=Tokens(input_tokens=101), theirs=Tokens(input_tokens=100)).disagrees is False
    assert ModelRow("openai", "m", ours=Tokens(input_tokens=10101), theirs=Tokens(input_tokens=10000)).disagrees is True
    # Output counts too: input agrees, output 2 % short.
    row = ModelRow("openai", "m", ours=Tokens(input_tokens=100, output_tokens=98), theirs=Tokens(100, 100, 0, 100))
    assert (row.token_difference_percent, row.disagrees) == (Decimal("-2.00"), True)
