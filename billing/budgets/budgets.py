"""Budgets: writing them and evaluating them (threshold and forecast alerts, key allowances).

Exactly once: an alert row is keyed by a unique ``dedupe_key`` (budget, period, threshold
| forecast | anomaly day), inserted in its own savepoint; a second evaluator — concurrent,
retried, or after a worker crash — finds the key taken and does nothing (budgets.alerts).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.budgets.alerts import alert_fire
from billing.budgets.channels import check_channel
from billing.budgets.credit import credit_standing_update, customers_with_credit_terms
from billing.budgets.spend import _scope_filter, budget_use, spend_forecast
from billing.models import Alert, Budget, BudgetEvaluationRequest, KeyAllowance
from billing.periods import business_day, current_period, format_period
from billing.pricing.cost import ZERO
from billing.pricing.money import quantize_money
from common.admin_display import money_text
from customers.models import ApiKey, Customer, Project

DEFAULT_THRESHOLDS = [50, 80, 100]
# Limits a customer cannot exceed (CONTRACT "One figure, limits and exports"): what one
# budget can make our workers send is thresholds × channels a month.
MAX_THRESHOLDS = 10
MAX_CHANNELS = 10
MAX_BUDGETS_PER_CUSTOMER = 50
EVALUATION_LOCK_NAMESPACE = 7302  # advisory locks: one budget evaluation per customer at a time

# --- Writing budgets ------------------------------------------------------------------


def _budget_terms(
    *,
    customer: Customer,
    scope: str,
    target: str | None,
    monthly_amount: Decimal,
    thresholds: list[int] | None,
    channels: list[str] | None,
    staff: bool,
) -> dict:
    """The checked fields of a budget, for budget_create and budget_update alike."""
    project = api_key = None
    if scope == Budget.Scope.PROJECT:
        project = Project.objects.filter(customer=customer, code=target or "").first()
        if project is None:
            raise ValidationError({"target": [_("No project with this code for the customer.")]})
    elif scope == Budget.Scope.API_KEY:
        api_key = ApiKey.objects.filter(customer=customer, key_id=target or "").first()
        if api_key is None:
            raise ValidationError({"target": [_("No API key with this key_id for the customer.")]})
    elif scope == Budget.Scope.CUSTOMER:
        if target:
            raise ValidationError({"target": [_("A customer-wide budget has no target; send null.")]})
    else:
        raise ValidationError({"scope": [_("One of: customer, project, api_key.")]})
    if monthly_amount is None or monthly_amount <= 0:
        raise ValidationError({"monthly_amount": [_("The budget must be greater than zero.")]})
    thresholds = sorted(set(thresholds or DEFAULT_THRESHOLDS))
    if len(thresholds) > MAX_THRESHOLDS:
        raise ValidationError(
            {"thresholds": [_("At most %(n)d thresholds per budget.") % {"n": MAX_THRESHOLDS}]}, code="limit"
        )
    if any(t <= 0 or t > 1000 for t in thresholds):
        raise ValidationError({"thresholds": [_("Thresholds are percentages between 1 and 1000.")]})
    channels = list(dict.fromkeys(c.strip() for c in (channels or []) if c.strip()))
    if len(channels) > MAX_CHANNELS:  # before checking each (a check may resolve names)
        raise ValidationError({"channels": [_("At most %(n)d channels per budget.") % {"n": MAX_CHANNELS}]})
    channels = list(dict.fromkeys(check_channel(c, staff=staff) for c in channels))
    return {
        "scope": scope,
        "project": project,
        "api_key": api_key,
        "monthly_amount": monthly_amount,
        "thresholds": thresholds,
        "channels": channels,
        "channels_by_staff": staff,
    }


@transaction.atomic
def budget_create(
    *,
    customer: Customer,
    scope: str,
    target: str | None,
    monthly_amount: Decimal,
    currency: str = "CNY",
    thresholds: list[int] | None = None,
    hard_limit: bool = False,
    channels: list[str] | None = None,
    actor=None,
    staff: bool = False,
) -> Budget:
    """A new budget. ``staff``: set by our staff, whose channels may be any apprise URL; a
    customer's (portal, API as a portal user) are held to the public services (budgets.channels).
    At most MAX_BUDGETS_PER_CUSTOMER budgets (counted under the customer's row lock)."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if Budget.objects.filter(customer=customer).count() >= MAX_BUDGETS_PER_CUSTOMER:
        raise ValidationError(
            {"non_field_errors": [_("At most %(n)d budgets per customer.") % {"n": MAX_BUDGETS_PER_CUSTOMER}]}
        )
    terms = _budget_terms(
        customer=customer,
        scope=scope,
        target=target,
        monthly_amount=monthly_amount,
        thresholds=thresholds,
        channels=channels,
        staff=staff,
    )
    budget = Budget.objects.create(
        customer=customer,
        currency=currency,
        hard_limit=hard_limit,
        created_by=actor if getattr(actor, "pk", None) else None,
        **terms,
    )
    transaction.on_commit(lambda: budgets_evaluate_customer(customer_id=customer.pk))
    return budget


@transaction.atomic
def budget_update(
    *,
    budget: Budget,
    scope: str,
    target: str | None,
    monthly_amount: Decimal,
    currency: str,
    thresholds: list[int] | None,
    hard_limit: bool,
    channels: list[str] | None,
    is_active: bool = True,
    staff: bool = False,
) -> Budget:
    """Change a budget with the same checks as budget_create; re-evaluated on commit (a
    raised amount can unblock a key, a lowered one block it)."""
    budget = Budget.objects.select_for_update().get(pk=budget.pk)
    terms = _budget_terms(
        customer=budget.customer,
        scope=scope,
        target=target,
        monthly_amount=monthly_amount,
        thresholds=thresholds,
        channels=channels,
        staff=staff,
    )
    for name, value in {**terms, "currency": currency, "hard_limit": hard_limit, "is_active": is_active}.items():
        setattr(budget, name, value)
    budget.save()
    customer_id = budget.customer_id
    transaction.on_commit(lambda: budgets_evaluate_customer(customer_id=customer_id))
    return budget


def budget_target(budget: Budget) -> str | None:
    """The ``target`` budget_create takes for this budget: the project code, the key_id or None."""
    if budget.scope == Budget.Scope.PROJECT:
        return budget.project.code if budget.project_id else None
    if budget.scope == Budget.Scope.API_KEY:
        return budget.api_key.key_id if budget.api_key_id else None
    return None


# --- Evaluation -----------------------------------------------------------------------


def budget_evaluate(budget: Budget, *, now: datetime | None = None) -> tuple[Decimal, Decimal | None, list[Alert]]:
    """Fire the thresholds and the forecast this budget has reached; returns (spend, budget in CNY, new alerts)."""
    now = now or timezone.now()
    today = business_day(now)
    period = today.replace(day=1)
    # One reading of the month to date: the thresholds compare it and the forecast starts
    # from it (so a month already past its budget does not also get a "will reach" forecast).
    spend, limit = budget_use(budget, now=now)
    forecast = (
        spend_forecast(budget.customer, today=today, budget=limit, spent=spend, **_scope_filter(budget))
        if limit
        else None
    )
    fired: list[Alert] = []
    if limit is None or limit <= 0:
        return spend, limit, fired
    label = format_period(period)
    for threshold in sorted(budget.thresholds):
        if spend * 100 >= limit * threshold:
            alert = alert_fire(
                customer=budget.customer,
                budget=budget,
                kind=Alert.Kind.THRESHOLD,
                threshold=threshold,
                period=period,
                amount=spend,
                dedupe_key=f"threshold:{budget.pk}:{label}:{threshold}",
                message=_(
                    "%(budget)s: spend this month is %(spend)s, %(pct)s%% of the budget %(limit)s (threshold %(t)d%%)."
                )
                % {
                    "budget": budget,
                    "spend": money_text(spend),
                    "pct": (spend * 100 / limit).quantize(Decimal("0.1")),
                    "limit": money_text(limit),
                    "t": threshold,
                },
                channels=budget.channels,
            )
            if alert:
                fired.append(alert)
    if spend < limit and forecast is not None and forecast.projected >= limit and forecast.crossing_day is not None:
        alert = alert_fire(
            customer=budget.customer,
            budget=budget,
            kind=Alert.Kind.FORECAST,
            period=period,
            amount=spend,
            dedupe_key=f"forecast:{budget.pk}:{label}",
            message=_(
                "%(budget)s: at the current pace the month ends near %(projected)s; the budget %(limit)s would be reached around %(day)s."
            )
            % {
                "budget": budget,
                "projected": money_text(quantize_money(forecast.projected)),
                "limit": money_text(limit),
                "day": forecast.crossing_day.isoformat(),
            },
            channels=budget.channels,
            data={
                "projected": str(quantize_money(forecast.projected)),
                "expected_date": forecast.crossing_day.isoformat(),
            },
        )
        if alert:
            fired.append(alert)
    return spend, limit, fired


def budgets_evaluate_customer(*, customer_id: int, now: datetime | None = None) -> list[Alert]:
    """Evaluate every active budget of a customer and refresh its keys' allowances.

    One evaluation of a customer at a time (a transaction-level advisory lock), each reading
    the spend only once it holds the lock: otherwise a slow evaluation could write its older
    spend over a newer one's and unblock a key past its hard limit until the next run.
    """
    customer = Customer.objects.get(pk=customer_id)
    now = now or timezone.now()
    period = current_period(now)
    fired: list[Alert] = []
    blocked: dict[int, tuple[Decimal, Decimal]] = {}
    tightest: dict[int, tuple[Decimal, Decimal]] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [EVALUATION_LOCK_NAMESPACE, customer_id])
        keys = list(ApiKey.objects.filter(customer=customer).values_list("pk", "project_id"))
        for budget in customer.budgets.filter(is_active=True).select_related("customer", "project", "api_key"):
            spend, limit, new = budget_evaluate(budget, now=now)
            fired += new
            if limit is None or limit <= 0:
                continue
            covered = [
                k
                for k, p in keys
                if budget.scope == Budget.Scope.CUSTOMER
                or (budget.scope == Budget.Scope.PROJECT and p == budget.project_id)
                or (budget.scope == Budget.Scope.API_KEY and k == budget.api_key_id)
            ]
            for key_id in covered:
                ratio = spend / limit
                if key_id not in tightest or ratio > tightest[key_id][0] / tightest[key_id][1]:
                    tightest[key_id] = (spend, limit)
                if budget.hard_limit and spend >= limit:
                    blocked[key_id] = (spend, limit)
        for key_id, _project in keys:
            spend, limit = blocked.get(key_id) or tightest.get(key_id) or (ZERO, None)
            KeyAllowance.objects.update_or_create(
                api_key_id=key_id,
                defaults={"blocked": key_id in blocked, "period": period, "month_to_date": spend, "budget": limit},
            )
        fired += credit_standing_update(customer, now=now)
    return fired


def budgets_evaluate_claimed(*, customer_id: int) -> list[Alert]:
    BudgetEvaluationRequest.objects.filter(customer_id=customer_id).delete()
    return budgets_evaluate_customer(customer_id=customer_id)


def budgets_evaluate_all(*, now: datetime | None = None) -> int:
    """Beat (and ``manage.py evaluate_budgets``): evaluate every customer with an active
    budget — the month reset, forecasts, events a coalesced evaluation missed. Returns the
    number of alerts fired."""
    fired = 0
    with_budgets = set(Budget.objects.filter(is_active=True).values_list("customer_id", flat=True))
    for customer_id in sorted(with_budgets | set(customers_with_credit_terms())):
        fired += len(budgets_evaluate_customer(customer_id=customer_id, now=now))
    return fired
