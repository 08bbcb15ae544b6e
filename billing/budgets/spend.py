"""What a customer, project or key spent, in CNY as its bill would say (money rule 5 (docs/money-rules.md))."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from billing.bills.figure import period_figure
from billing.budgets.forecasting import Forecast, forecast_month_end
from billing.metering.selectors import summary_rows
from billing.models import Budget, UsageRollup
from billing.periods import business_day, next_period
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
    return {day: value for (day,), value in _daily_spend(customer, start, end, by=(), **scope).items()}


def daily_spend_by_model(customer: Customer, start: date, end: date) -> dict[tuple[str, str], dict[date, Decimal]]:
    """As :func:`daily_spend_cny`, per (provider, model): the portal's daily chart."""
    result: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
    for (day, provider, model), value in _daily_spend(customer, start, end, by=("provider", "model")).items():
        result[(provider, model)][day] = value
    return dict(result)


def _daily_spend(customer: Customer, start: date, end: date, *, by: tuple[str, ...], **scope) -> dict[tuple, Decimal]:
    rows = (
        UsageRollup.objects.filter(
            customer=customer, day__gte=start, day__lte=end, price_version__isnull=False, **scope
        )
        .values("day", "period", "currency", *by)
        .annotate(cost=Sum("cost"))
    )
    terms = _PeriodTerms(customer)
    result: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in rows:
        period, currency = row["period"], row["currency"]
        rate = terms.rate(currency, period)
        if rate is None:
            continue  # no rate yet: the spend is unknown in CNY, not zero — surfaced in summaries
        value = cny_unrounded({currency: row["cost"]}, discount_percent=terms.discount(period), rates={currency: rate})
        with exact_context():
            result[(row["day"], *(row[name] for name in by))] += value
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


def period_spend_cny(
    customer: Customer, period: date, *, project_id: int | None = None, api_key_id: int | None = None
) -> Decimal:
    """The spend of ``period`` so far as its bill will count it — the period's one figure
    (billing.bills.figure): its usage lines, each rounded once (money rule 5), summed, at
    the latest rate entered; of a project, that project's lines; of an API key, the key's
    own rounded row (its usage summary row by key). Usage without a rate yet counts nothing
    (its cost in CNY is unknown)."""
    if api_key_id is not None:
        rows = summary_rows(customer=customer, period=period, group_by="api_key", api_key_id=api_key_id).rows
        return next((row.cost for row in rows if row.cost is not None), ZERO)
    return period_figure(customer, period, project_id=project_id, closed=False).total


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
    return (period_spend_cny(budget.customer, period, **_scope_filter(budget)), budget_amount_cny(budget, period))


def spend_forecast(
    customer: Customer, *, today: date, budget: Decimal | None = None, spent: Decimal | None = None, **scope
) -> Forecast:
    """Month-end spend at the current pace (billing/budgets/forecasting.py): the month's
    spend so far — the one figure (``spent`` when the caller has it, else period_spend_cny)
    — plus the pace of the daily rollups of this month and the 28 days before: what forecast
    alerts and the portal's overview use."""
    period = today.replace(day=1)
    month_end = next_period(period) - timedelta(days=1)
    history_start = min(period, today - timedelta(days=28))
    daily = daily_spend_cny(customer, history_start, today, **scope)
    if spent is None:
        spent = period_spend_cny(customer, period, **scope)
    return forecast_month_end(daily, today=today, month_end=month_end, budget=budget, spent=spent)
