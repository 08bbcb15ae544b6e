"""Credit control (授信): a contract's credit limit and its suspension for overdue bills, as
the gateway's allowance sees them (CONTRACT "Credit control and service fees").

The standing of a customer is computed here and kept in one row (CustomerStanding), so the
allowance — asked before every LLM call — reads it by primary key in its one query:

- ``overdue``: a bill of the customer past ``due_on`` by more than the contract's
  ``suspend_after_overdue_days`` days and not paid;
- ``credit_limit``: Σ balances of issued, unpaid bills + month-to-date spend ≥ ``credit_limit``.

Customers and finance are alerted at 80 % and 100 % of the limit, once per period each.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.budgets.alerts import alert_fire, customer_channels, finance_addresses
from billing.budgets.spend import period_spend_cny
from billing.models import Alert, Bill, CustomerStanding
from billing.periods import business_day, format_period
from billing.pricing.cost import ZERO
from billing.pricing.money import quantize_money
from common.admin_display import money_text
from customers.models import Contract, Customer
from customers.selectors import contract_in_force

CREDIT_THRESHOLDS = (80, 100)


def unpaid_balance(customer: Customer) -> Decimal:
    """Σ (total − paid) of the customer's issued bills not yet paid in full."""
    open_bills = Bill.objects.filter(customer=customer, status__in=Bill.OPEN_STATUSES)
    return open_bills.aggregate(s=Sum(F("total") - F("amount_paid")))["s"] or ZERO


def customers_with_credit_terms():
    """Customers whose active contract sets a credit limit or an overdue suspension."""
    terms = Q(credit_limit__isnull=False) | Q(suspend_after_overdue_days__isnull=False)
    return Contract.objects.filter(terms, status=Contract.Status.ACTIVE).values_list("customer_id", flat=True)


def credit_standing_update(customer: Customer, *, now: datetime | None = None) -> list[Alert]:
    """Recompute and store ``customer``'s standing; fire the credit alerts it crosses."""
    today = business_day(now or timezone.now())
    period = today.replace(day=1)
    contract = contract_in_force(customer=customer, on=today)
    limit = contract.credit_limit.amount if contract and contract.credit_limit is not None else None
    days = contract.suspend_after_overdue_days if contract else None
    if limit is None and days is None:
        # No credit terms (most customers): nothing to sum after every batch; a standing left
        # from terms since removed blocks nothing.
        CustomerStanding.objects.filter(customer=customer).delete()
        return []
    unpaid = quantize_money(unpaid_balance(customer))
    month_to_date = period_spend_cny(customer, period)
    exposure = unpaid + month_to_date
    overdue = days is not None and _overdue_since(customer, today - timedelta(days=days))
    CustomerStanding.objects.update_or_create(
        customer=customer,
        defaults={
            "period": period,
            "unpaid": unpaid,
            "month_to_date": month_to_date,
            "credit_limit": limit,
            "credit_blocked": limit is not None and exposure >= limit,
            "overdue_blocked": overdue,
        },
    )
    if limit is None or limit <= 0:
        return []
    return [
        alert
        for threshold in CREDIT_THRESHOLDS
        if exposure * 100 >= limit * threshold
        and (alert := _credit_alert(customer, period, threshold, exposure, unpaid, month_to_date, limit))
    ]


def _overdue_since(customer: Customer, cutoff: date) -> bool:
    return Bill.objects.filter(customer=customer, status__in=Bill.OPEN_STATUSES, due_on__lt=cutoff).exists()


def _credit_alert(customer, period, threshold, exposure, unpaid, month_to_date, limit) -> Alert | None:
    facts = {
        "customer": customer.name,
        "exposure": money_text(exposure),
        "unpaid": money_text(unpaid),
        "month_to_date": money_text(month_to_date),
        "limit": money_text(limit),
        "t": threshold,
        "period": format_period(period),
    }
    message = (
        _(
            "%(customer)s has used %(t)s%% of its credit limit %(limit)s: unpaid bills %(unpaid)s and "
            "%(month_to_date)s spent this month (%(exposure)s)."
        )
        % facts
    )
    if threshold >= 100:
        message += " " + _("API calls are refused until a payment brings it below the limit.")
    return alert_fire(
        customer=customer,
        kind=Alert.Kind.CREDIT,
        period=period,
        amount=exposure,
        threshold=threshold,
        dedupe_key=f"credit:{customer.pk}:{format_period(period)}:{threshold}",
        message=message,
        channels=customer_channels(customer) + finance_addresses(),
        data={k: v for k, v in facts.items() if k not in ("t", "period")},
    )
