"""PeriodTerms (billing/pricing/terms.py): the contract in force, its discount, and money rule 4 (docs/money-rules.md)'s
rate — exact for a closed period, the latest entered for an open one — with the missing ones named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import ClosedPeriod, ExchangeRate
from billing.pricing.terms import PeriodTerms
from customers.models import Contract

pytestmark = pytest.mark.django_db

SEPTEMBER, OCTOBER, NOVEMBER = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def september_rate(db):
    return ExchangeRate.objects.create(currency="USD", period=SEPTEMBER, rate=Decimal("7.00"))


def test_an_open_period_takes_the_latest_rate_entered_up_to_it(acme, september_rate):
    terms = PeriodTerms(acme)

    assert terms.rate("USD", OCTOBER) == Decimal("7.00")
    assert terms.rate("CNY", OCTOBER) == Decimal(1)
    assert terms.missing == []


def test_a_closed_period_needs_its_own_rate_and_names_it_when_missing(acme, september_rate):
    ClosedPeriod.objects.create(customer=acme, period=OCTOBER)
    terms = PeriodTerms(acme)

    assert terms.closed(OCTOBER) and not terms.closed(NOVEMBER)
    assert terms.rate("USD", OCTOBER) is None  # September's 7.00 is not October's rate
    assert terms.cny({"USD": Decimal("1")}, OCTOBER) is None
    assert terms.rate("EUR", NOVEMBER) is None
    assert terms.missing == ["EUR 2026-11", "USD 2026-10"]

    ExchangeRate.objects.create(currency="USD", period=OCTOBER, rate=Decimal("6.25"))
    assert PeriodTerms(acme).rate("USD", OCTOBER) == Decimal("6.25")


def test_the_contract_discount_and_fixed_rate_are_applied_once_rounded(acme, september_rate):
    Contract.objects.filter(customer=acme).update(discount_percent=Decimal("20"), fixed_exchange_rate=Decimal("6.5"))
    terms = PeriodTerms(acme)

    assert terms.discount(OCTOBER) == Decimal("20")
    assert terms.rate("USD", OCTOBER) == Decimal("6.5")  # the contract's fixed rate wins
    # 1.0001 USD × 0.8 × 6.5 = 5.20052 → 5.20; with 2 CNY × 0.8 = 1.6: 6.80052 → 6.80 (one rounding)
    assert terms.cny({"USD": Decimal("1.0001"), "CNY": Decimal("2")}, OCTOBER) == Decimal("6.80")
    assert terms.used(OCTOBER) == {"CNY": Decimal(1), "USD": Decimal("6.5")}


def test_a_period_without_a_contract_has_no_discount(acme, september_rate):
    Contract.objects.filter(customer=acme).update(starts_on=date(2027, 1, 1))
    assert PeriodTerms(acme).discount(OCTOBER) == Decimal(0)


def test_proposed_terms_read_no_contract_and_are_never_closed(acme, september_rate):
    Contract.objects.filter(customer=acme).update(discount_percent=Decimal("20"))
    terms = PeriodTerms.proposed(discount_percent=Decimal("8"))

    assert (terms.discount(OCTOBER), terms.closed(OCTOBER)) == (Decimal("8"), False)
    assert terms.rate("USD", NOVEMBER) == Decimal("7.00")
    fixed = PeriodTerms.proposed(discount_percent=Decimal("0"), fixed_exchange_rate=Decimal("7.1"))
    assert fixed.rate("USD", SEPTEMBER) == Decimal("7.1")
