"""The terms a period is priced with, looked up once: ``PeriodTerms``.

For one customer (or for proposed, unsaved terms: a presales estimate) and each period
asked about, it answers the contract in force (``contract_for_period``), its discount, and
the exchange rate of money rule 4 (docs/money-rules.md):

* CNY at 1; the contract's ``fixed_exchange_rate`` when set;
* a **closed** period (its bill issued: ``ClosedPeriod``) the rate entered for that very
  period — what its bill used;
* an **open** period the latest rate entered up to it.

A rate that is not there is ``None`` and is remembered in ``missing`` (``"USD 2026-10"``),
so a page can say which rate finance has to enter instead of printing 0. ``cny`` is money
rule 5 over costs by currency (None when a rate is missing).

Used by customer insights and presales. Budgets (``billing/budgets/spend.py``), the usage
summary (``billing/metering/selectors.py``) and the close (``billing/bills/lines.py``) still
look their terms up themselves (the same two selectors, ``contract_for_period`` and
``exchange_rate_for``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from billing.models import ClosedPeriod
from billing.periods import format_period
from billing.pricing.cost import ZERO, cny_unrounded, line_amount
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from customers.models import Contract, Customer


class PeriodTerms:
    """Contract, discount and rates of one customer's periods (or of proposed terms)."""

    def __init__(self, customer: Customer | None, *, proposed: Contract | None = None):
        self.customer = customer
        self._proposed = proposed
        self._contracts: dict[date, Contract | None] = {}
        self._closed: dict[date, bool] = {}
        self._rates: dict[tuple[str, date], Decimal | None] = {}
        self._missing: set[tuple[str, date]] = set()

    @classmethod
    def proposed(cls, *, discount_percent: Decimal = ZERO, fixed_exchange_rate: Decimal | None = None):
        """Terms not yet agreed (an estimate's offer): every period is open and priced with
        them; nothing is read from a customer's contracts."""
        return cls(None, proposed=Contract(discount_percent=discount_percent, fixed_exchange_rate=fixed_exchange_rate))

    def contract(self, period: date) -> Contract | None:
        if self._proposed is not None:
            return self._proposed
        if period not in self._contracts:
            self._contracts[period] = contract_for_period(self.customer, period)
        return self._contracts[period]

    def discount(self, period: date) -> Decimal:
        contract = self.contract(period)
        return contract.discount_percent if contract else ZERO

    def closed(self, period: date) -> bool:
        """Whether the customer's ``period`` is closed (its bill issued): its rate is then exact."""
        if self.customer is None:
            return False
        if period not in self._closed:
            self._closed[period] = ClosedPeriod.objects.filter(customer=self.customer, period=period).exists()
        return self._closed[period]

    def rate(self, currency: str, period: date) -> Decimal | None:
        """Money rule 4: exact for a closed period, the latest entered up to an open one."""
        key = (currency, period)
        if key not in self._rates:
            rate = exchange_rate_for(currency, period, contract=self.contract(period), exact=self.closed(period))
            self._rates[key] = rate
            if rate is None:
                self._missing.add(key)
        return self._rates[key]

    def rates(self, currencies, period: date) -> dict[str, Decimal] | None:
        """The rate of each currency, or None when any is missing (each missing one is noted)."""
        found = {currency: self.rate(currency, period) for currency in currencies}
        return None if any(rate is None for rate in found.values()) else found

    @property
    def missing(self) -> list[str]:
        """The rates asked for and not entered, as ``"USD 2026-10"``, sorted."""
        return sorted(f"{currency} {format_period(period)}" for currency, period in self._missing)

    def used(self, period: date) -> dict[str, Decimal]:
        """The rates found for ``period``, by currency."""
        return {c: r for (c, p), r in sorted(self._rates.items()) if p == period and r is not None}

    def cny(self, costs: Mapping[str, Decimal], period: date) -> Decimal | None:
        """Money rule 5: Σ cost × (1 − discount) × rate, rounded half up once; None without a rate."""
        rates = self.rates(costs, period)
        return None if rates is None else line_amount(costs, discount_percent=self.discount(period), rates=rates)

    def cny_unrounded(self, costs: Mapping[str, Decimal], period: date) -> Decimal | None:
        """``cny`` before the rounding (daily series); None without a rate."""
        rates = self.rates(costs, period)
        return None if rates is None else cny_unrounded(costs, discount_percent=self.discount(period), rates=rates)
