"""The daily anomaly scan: a day's spend far from its recent median fires an alert."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.budgets.alerts import alert_fire, customer_channels, finance_addresses
from billing.budgets.forecasting import day_anomaly, month_over_month_growth
from billing.budgets.spend import daily_spend_cny
from billing.models import Alert, UsageRollup
from billing.periods import format_period, next_period
from billing.pricing.cost import ZERO
from billing.pricing.money import quantize_money
from common.admin_display import money_text
from customers.models import ApiKey, Customer

# --- Anomalies ------------------------------------------------------------------------


def anomalies_scan(*, day: date, k: Decimal | None = None, min_absolute: Decimal | None = None) -> list[Alert]:
    """Compare ``day`` (a complete business day) with each series' own trailing 28 days:
    per customer, and per API key × model; plus month-over-month growth above 50 %."""
    from django.conf import settings

    k = k if k is not None else Decimal(str(getattr(settings, "ANOMALY_K", "5")))
    min_absolute = (
        min_absolute if min_absolute is not None else Decimal(str(getattr(settings, "ANOMALY_MIN_CNY", "50")))
    )
    fired: list[Alert] = []
    start = day - timedelta(days=28)
    customer_ids = UsageRollup.objects.filter(day=day).values_list("customer_id", flat=True).distinct()
    for customer in Customer.objects.filter(pk__in=customer_ids):
        channels = customer_channels(customer) + finance_addresses()
        series = daily_spend_cny(customer, start, day)
        verdict = day_anomaly(series, day, k=k, min_absolute=min_absolute)
        if verdict.anomalous:
            alert = alert_fire(
                customer=customer,
                kind=Alert.Kind.ANOMALY,
                period=day.replace(day=1),
                amount=verdict.value,
                dedupe_key=f"anomaly:{customer.pk}:customer:{day.isoformat()}",
                message=_(
                    "%(customer)s spent %(value)s on %(day)s; its usual day is %(median)s (alert above %(threshold)s)."
                )
                % {
                    "customer": customer.name,
                    "value": money_text(quantize_money(verdict.value)),
                    "day": day.isoformat(),
                    "median": money_text(quantize_money(verdict.median)),
                    "threshold": money_text(quantize_money(verdict.threshold)),
                },
                channels=channels,
                data={"scope": "customer", "day": day.isoformat()},
            )
            fired += [alert] if alert else []
        pairs = UsageRollup.objects.filter(customer=customer, day=day).values_list("api_key_id", "model").distinct()
        for api_key_id, model in pairs:
            per = daily_spend_cny(customer, start, day, api_key_id=api_key_id, model=model)
            verdict = day_anomaly(per, day, k=k, min_absolute=min_absolute)
            if verdict.anomalous:
                key_id = ApiKey.objects.filter(pk=api_key_id).values_list("key_id", flat=True).first()
                alert = alert_fire(
                    customer=customer,
                    kind=Alert.Kind.ANOMALY,
                    period=day.replace(day=1),
                    amount=verdict.value,
                    dedupe_key=f"anomaly:{customer.pk}:{api_key_id}:{model}:{day.isoformat()}"[:200],
                    message=_("Key %(key)s spent %(value)s on %(model)s on %(day)s; usual %(median)s.")
                    % {
                        "key": key_id,
                        "value": money_text(quantize_money(verdict.value)),
                        "model": model,
                        "day": day.isoformat(),
                        "median": money_text(quantize_money(verdict.median)),
                    },
                    channels=channels,
                    data={"scope": "api_key_model", "key_id": key_id, "model": model, "day": day.isoformat()},
                )
                fired += [alert] if alert else []
        period = day.replace(day=1)
        previous = next_period(period, -1)
        this_month = sum((v for d, v in daily_spend_cny(customer, period, day).items()), ZERO)
        same_days_before = day.replace(
            year=previous.year, month=previous.month, day=min(day.day, (period - timedelta(days=1)).day)
        )
        last_month = sum((v for d, v in daily_spend_cny(customer, previous, same_days_before).items()), ZERO)
        growth = month_over_month_growth(this_month, last_month)
        if growth is not None and growth > Decimal("0.5") and this_month - last_month >= min_absolute:
            alert = alert_fire(
                customer=customer,
                kind=Alert.Kind.ANOMALY,
                period=period,
                amount=this_month,
                dedupe_key=f"anomaly:{customer.pk}:mom:{format_period(period)}",
                message=_(
                    "%(customer)s: spend so far this month %(now)s is %(pct)s%% above the same days last month (%(before)s)."
                )
                % {
                    "customer": customer.name,
                    "now": money_text(quantize_money(this_month)),
                    "pct": (growth * 100).quantize(Decimal("1")),
                    "before": money_text(quantize_money(last_month)),
                },
                channels=channels,
                data={"scope": "month_over_month", "growth": str(growth.quantize(Decimal("0.0001")))},
            )
            fired += [alert] if alert else []
    return fired
