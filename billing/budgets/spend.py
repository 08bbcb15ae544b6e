"""What a customer, project or key spent, in CNY as its bill would say (money rule 5)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from billing.models import Budget, UsageRollup
from billing.periods import business_day
from billing.pricing.cost import ZERO, cny_unrounded, exact_context, line_amount
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from customers.models import Contract, Customer

# --- Spend ----------------------------------------------------------------------------


def _scope_filter(budget: Budget) -> dict:
    if budget.scope == Budget.Scope.PROJECT:
        return {"project_id": budget.project_id}
    if budget.scope == Budget.Scope.API_KEY:
        return {"api_key_id": budget.api_key_id}
    return {}


def daily_spend_cny(customer: Customer, start: date, end: date, **scope) -> dict[date, Decimal]:
    """Spend per business day in CNY, unrounded, as a bill would count it (discount, rate)."""
    rows = (
        UsageRollup.objects.filter(
            customer=customer, day__gte=start, day__lte=end, price_version__isnull=False, **scope
        )
        .values("day", "period", "currency")
        .annotate(cost=Sum("cost"))
    )
    terms = _PeriodTerms(customer)
    result: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        period, currency = row["period"], row["currency"]
        rate = terms.rate(currency, period)
        if rate is None:
            continue  # no rate yet: the spend is unknown in CNY, not zero — surfaced in summaries
        value = cny_unrounded({currency: row["cost"]}, discount_percent=terms.discount(period), rates={currency: rate})
        with exact_context():
            result[row["day"]] += value
    return dict(result)


class _PeriodTerms:
    """The discount and the open-period rates (money rule 4) of one customer, looked up once each."""

    def __init__(self, customer: Customer):
        self.customer = customer
        self._contracts: dict[date, Contract | None] = {}
        self._rates: dict[tuple[str, date], Decimal | None] = {}

    def contract(self, period: date) -> Contract | None:
        if period not in self._contracts:
            self._contracts[period] = contract_for_period(self.customer, period)
        return self._contracts[period]

    def discount(self, period: date) -> Decimal:
        contract = self.contract(period)
        return contract.discount_percent if contract else ZERO

    def rate(self, currency: str, period: date) -> Decimal | None:
        if (currency, period) not in self._rates:
            self._rates[(currency, period)] = exchange_rate_for(
                currency, period, contract=self.contract(period), exact=False
            )
        return self._rates[(currency, period)]


def month_to_date_cny(customer: Customer, period: date, today: date, **scope) -> Decimal:
    """Spend of ``period`` up to ``today`` as the bill will count it: one amount per
    (project, model), each rounded once (money rule 5), summed; usage without a rate yet
    counts nothing (its cost in CNY is unknown)."""
    rows = (
        UsageRollup.objects.filter(
            customer=customer, period=period, day__lte=today, price_version__isnull=False, **scope
        )
        .values("project_id", "provider", "model", "currency")
        .annotate(cost=Sum("cost"))
    )
    terms = _PeriodTerms(customer)
    lines: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        if terms.rate(row["currency"], period) is not None:
            lines[(row["project_id"], row["provider"], row["model"])][row["currency"]] = row["cost"]
    return sum(
        (
            line_amount(costs, discount_percent=terms.discount(period), rates={c: terms.rate(c, period) for c in costs})
            for costs in lines.values()
        ),
        ZERO,
    )


def budget_amount_cny(budget: Budget, period: date) -> Decimal | None:
    if budget.currency == "CNY":
        return budget.monthly_amount
    rate = exchange_rate_for(
        budget.currency, period, contract=contract_for_period(budget.customer, period), exact=False
    )
    return (
        None
        if rate is None
        else line_amount({budget.currency: budget.monthly_amount}, discount_percent=ZERO, rates={budget.currency: rate})
    )


def budget_use(budget: Budget, *, now: datetime | None = None) -> tuple[Decimal, Decimal | None]:
    """(month-to-date spend, the budget in CNY) as the evaluation compares them: what the
    portal's gauges show is what fires the thresholds. The budget is None without a rate."""
    today = business_day(now or timezone.now())
    period = today.replace(day=1)
    return (
        month_to_date_cny(budget.customer, period, today, **_scope_filter(budget)),
        budget_amount_cny(budget, period),
    )
