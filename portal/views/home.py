"""The portal's overview (``/portal/``): month to date at a glance.

Every figure comes from the selectors the API and the budget checks use, which read the
daily rollups only: the spend is the period's one figure (the usage summary's ``total``,
billing.bills.figure), the forecast starts from it, and the gauges are what the budget
evaluation computes from the same figure.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.bills.summary import usage_summary
from billing.budgets.budgets import budget_target
from billing.budgets.feed import alert_summary
from billing.budgets.spend import budget_use, daily_spend_by_model, spend_forecast
from billing.models import Alert
from billing.periods import business_day, format_period
from billing.pricing.money import quantize_money
from common import charts
from portal.access import portal_view

CHART_DAYS = 30
LAST_ALERTS = 5


@portal_view()
def home(request):
    customer = request.portal.customer
    now = timezone.now()
    today = business_day(now)
    period = today.replace(day=1)
    summary = usage_summary(customer=customer, period=period, group_by="model")
    forecast = spend_forecast(customer, today=today, spent=summary.total)
    context = {
        "period": format_period(period),
        "today": today,
        "summary": summary,
        "spend": summary.total,
        "unpriced": sum(row.unpriced_requests for row in summary.rows),
        "forecast": quantize_money(forecast.projected),
        "budgets": [_budget_card(budget, now) for budget in _active_budgets(customer)],
        "alerts": [
            {"alert": alert, "text": alert_summary(alert)}
            for alert in Alert.objects.filter(customer=customer).select_related("budget", "customer")[:LAST_ALERTS]
        ],
        "chart": _daily_chart(customer, today),
    }
    return render(request, "portal/home.html", context)


def _active_budgets(customer):
    return customer.budgets.filter(is_active=True).select_related("customer", "project", "api_key").order_by("pk")


def _budget_card(budget, now) -> dict:
    spend, limit = budget_use(budget, now=now)
    share = None if not limit else (spend * 100 / limit).quantize(Decimal("0.1"))
    return {
        "budget": budget,
        "target": budget_target(budget),
        "spend": quantize_money(spend),
        "limit": limit,
        "share": share,
        "gauge": None
        if not limit
        else charts.gauge(
            spend, limit, thresholds=[Decimal(t) for t in sorted(budget.thresholds)], label=_("Budget use")
        ),
    }


def _daily_chart(customer, today):
    """Spend per day of the last 30 days, stacked by model (unrounded CNY per day; the
    tooltips round to the fen as every amount shown)."""
    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    by_model = daily_spend_by_model(customer, days[0], today)
    series = [
        (model, [per_day.get(day, Decimal(0)) for day in days])
        for (_provider, model), per_day in sorted(by_model.items(), key=lambda item: -sum(item[1].values()))
    ]
    return charts.stacked_bars(
        [day.strftime("%m-%d") for day in days], series, label=_("Daily spend by model, last 30 days")
    )
