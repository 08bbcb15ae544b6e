"""The terms a period is priced with: the contract in force and the exchange rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Q

from billing.models import ExchangeRate
from billing.periods import next_period
from customers.models import Contract, Customer


def contract_for_period(customer: Customer, period: date) -> Contract | None:
    """The active contract in force during ``period`` (the latest-starting one if the month
    spans a change of contract)."""
    last_day = next_period(period).toordinal() - 1
    return (
        Contract.objects.filter(
            customer=customer, status=Contract.Status.ACTIVE, starts_on__lte=date.fromordinal(last_day)
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period))
        .order_by("-starts_on")
        .first()
    )


def exchange_rate_for(currency: str, period: date, *, contract: Contract | None, exact: bool) -> Decimal | None:
    """Money rule 4 (docs/money-rules.md). ``exact``: the rate of that period only (closing); otherwise the latest
    rate entered up to that period (open periods: summaries, budgets)."""
    if currency == "CNY":
        return Decimal(1)
    if contract is not None and contract.fixed_exchange_rate is not None:
        return contract.fixed_exchange_rate
    rates = ExchangeRate.objects.filter(currency=currency)
    rate = rates.filter(period=period) if exact else rates.filter(period__lte=period).order_by("-period")
    found = rate.values_list("rate", flat=True).first()
    return found
