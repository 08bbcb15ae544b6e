"""Budgets, threshold/forecast/anomaly alerts, their delivery, and the gateway allowance.

Exactly once: an alert row is keyed by a unique ``dedupe_key`` (budget, period, threshold
| forecast | anomaly day), inserted in its own savepoint; a second evaluator — concurrent,
retried, or after a worker crash — finds the key taken and does nothing. Deliveries are
rows too (alert × channel), each sent by its own retried task, so one failing channel
never blocks another and a crash leaves them pending for the sweep to retry.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.forecasting import day_anomaly, forecast_month_end, month_over_month_growth
from billing.models import Alert, AlertDelivery, Budget, BudgetEvaluationRequest, KeyAllowance, UsageRollup
from billing.money import quantize_money
from billing.periods import business_day, current_period, format_period, next_period
from billing.pricing.cost import cny_unrounded, exact_context, line_amount
from billing.selectors import contract_for_period, exchange_rate_for
from common.tasks import enqueue, enqueue_on_commit
from customers.models import ApiKey, Contract, Customer, Project

logger = logging.getLogger(__name__)
DEFAULT_THRESHOLDS = [50, 80, 100]
EVALUATION_LOCK_NAMESPACE = 7302  # advisory locks: one budget evaluation per customer at a time
ZERO = Decimal("0")

# --- Writing budgets ------------------------------------------------------------------


# The services a customer may point alerts at, by the apprise plugin that sends to them, and
# the public hosts of their webhooks. These plugins build the service's own URL from a
# token, so no customer-set channel can make our workers call an address of their choosing.
CUSTOMER_CHANNEL_PLUGINS = frozenset({"NotifyWeComBot", "NotifyDingTalk", "NotifyFeishu", "NotifyLark", "NotifySlack"})
CUSTOMER_WEBHOOK_HOSTS = frozenset(
    {"qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn", "open.larksuite.com", "hooks.slack.com"}
)

# Schemes whose "host" is the service's token (wecombot://KEY), not a host we would call.
_TOKEN_SCHEMES = frozenset({"wecombot", "dingtalk", "feishu", "lark", "slack"})


def _internal_host(host: str) -> bool:
    """Loopback, private, link-local (cloud metadata), reserved or unqualified names."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith((".localhost", ".internal", ".local"))
    return not address.is_global


def _check_customer_channel(channel: str) -> None:
    """A customer-set apprise URL: one of the allowed services, never an internal address."""
    parts = urlsplit(channel)
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    web = parts.scheme.lower() in ("http", "https")
    if (web or parts.scheme.lower() not in _TOKEN_SCHEMES) and _internal_host(host):
        raise ValidationError(
            {"channels": [_("%(c)s points at an internal or private address; it cannot be used.") % {"c": channel}]}
        )
    import apprise

    service = apprise.Apprise.instantiate(channel)
    allowed = service is not None and type(service).__name__ in CUSTOMER_CHANNEL_PLUGINS
    if not allowed or (web and (parts.scheme.lower() != "https" or host not in CUSTOMER_WEBHOOK_HOSTS)):
        raise ValidationError(
            {
                "channels": [
                    _("Only e-mail addresses and WeCom, DingTalk, Feishu/Lark or Slack webhooks can be used: %(c)s")
                    % {"c": channel}
                ]
            }
        )


def _check_channel(channel: str, *, staff: bool = False) -> str:
    """The channel as it is kept: an e-mail address (``mailto:`` dropped) or an apprise URL.

    Our staff (the admin, the finance API) may use any URL apprise understands, their own
    systems included; a channel a customer sets (the portal, the API as a portal user) is
    held to CUSTOMER_CHANNEL_PLUGINS and CUSTOMER_WEBHOOK_HOSTS, here at entry, so that no
    customer can make our workers call an address of their choosing."""
    if channel.lower().startswith("mailto:") and "://" not in channel:
        channel = channel[len("mailto:") :]
    if "://" in channel:
        if not staff:
            _check_customer_channel(channel)
            return channel
        import apprise

        if apprise.Apprise.instantiate(channel) is None:
            raise ValidationError(
                {
                    "channels": [
                        _("Not an e-mail address or a notification URL apprise understands: %(c)s") % {"c": channel}
                    ]
                }
            )
        return channel
    try:
        validate_email(channel)
    except ValidationError as exc:
        raise ValidationError(
            {"channels": [_("Not an e-mail address or a notification URL: %(c)s") % {"c": channel}]}
        ) from exc
    return channel


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
    if any(t <= 0 or t > 1000 for t in thresholds):
        raise ValidationError({"thresholds": [_("Thresholds are percentages between 1 and 1000.")]})
    channels = list(dict.fromkeys(_check_channel(c.strip(), staff=staff) for c in (channels or []) if c.strip()))
    return {
        "scope": scope,
        "project": project,
        "api_key": api_key,
        "monthly_amount": monthly_amount,
        "thresholds": thresholds,
        "channels": channels,
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
    customer's (portal, API as a portal user) are held to the public services."""
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


# --- Firing and delivering alerts -------------------------------------------------------


def alert_fire(
    *,
    customer: Customer,
    kind: str,
    period: date,
    amount: Decimal,
    dedupe_key: str,
    message: str,
    channels: list[str],
    budget: Budget | None = None,
    threshold: int | None = None,
    data: dict | None = None,
) -> Alert | None:
    """Create the alert unless its key exists (then None); queue one delivery per channel."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                customer=customer,
                budget=budget,
                kind=kind,
                threshold=threshold,
                period=period,
                amount=quantize_money(amount),
                message=message,
                data=data or {},
                dedupe_key=dedupe_key,
            )
            deliveries = [AlertDelivery.objects.create(alert=alert, channel=c) for c in dict.fromkeys(channels)]
    except IntegrityError:
        return None
    # One callback per channel, robust: a channel whose enqueue (or, run eagerly, whose
    # sending) raises must not keep the others from being sent; it stays for the sweep.
    for delivery in deliveries:
        enqueue_on_commit("billing.tasks.alert_deliver", delivery.pk, robust=True)
    return alert


@contextmanager
def _apprise_warnings() -> Iterator[list[str]]:
    """apprise answers only True/False; its log says why (HTTP status, connection refused, …).
    Collects this thread's apprise warnings without touching the logger's level."""
    messages: list[str] = []
    thread = threading.get_ident()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread and record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    handler = Collect()
    apprise_logger = logging.getLogger("apprise")
    apprise_logger.addHandler(handler)
    try:
        yield messages
    finally:
        apprise_logger.removeHandler(handler)


def _send(channel: str, subject: str, body: str) -> None:
    """Send one notification to an e-mail address (Django's mail) or an apprise URL; raises
    with the reason when it was not accepted."""
    if "://" not in channel:
        send_mail(subject, body, None, [channel])
        return
    import apprise

    # The service itself, not an Apprise() set: that sends from a thread pool, and the
    # reason for a failure is only in the log of the thread that sent.
    service = apprise.Apprise.instantiate(channel)
    if service is None:
        raise RuntimeError("not a notification URL apprise understands")
    with _apprise_warnings() as warnings:
        accepted = service.notify(title=subject, body=body)
    if not accepted:
        reason = " ".join(" ".join(warnings).split())
        raise RuntimeError(reason or "the notification service did not accept the message")


def channel_test_send(*, budget: Budget, channel: str) -> bool:
    """The "send test" of one of ``budget``'s channels, by the path alerts take. The reason
    of a failure goes to our log only: a customer must not learn from it what our servers
    can reach."""
    if channel not in budget.channels:
        raise ValidationError({"channel": [_("This budget has no such channel.")]})
    subject = _("[Procurement Center] %(customer)s: test notification") % {"customer": budget.customer.name}
    body = _("A test of the alert channel of the budget %(budget)s. Alerts will arrive here.") % {"budget": budget}
    try:
        _send(channel, subject, body)
    except Exception:  # noqa: BLE001 - any failure is one answer to the customer
        logger.warning("test notification to a channel of budget %s failed", budget.pk, exc_info=True)
        return False
    return True


def alert_deliver(*, delivery_id: int) -> bool:
    """Send one delivery; records sent or failed + error. Raises on failure so the task retries."""
    delivery = AlertDelivery.objects.select_related("alert__customer").get(pk=delivery_id)
    if delivery.status == AlertDelivery.Status.SENT:
        return True
    alert = delivery.alert
    subject = _("[Procurement Center] %(customer)s: %(kind)s alert") % {
        "customer": alert.customer.name,
        "kind": alert.get_kind_display(),
    }
    delivery.attempts += 1
    try:
        _send(delivery.channel, subject, alert.message)
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the task's retry
        delivery.status = AlertDelivery.Status.FAILED
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.save(update_fields=["status", "attempts", "last_error"])
        raise
    delivery.status = AlertDelivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    return True


def finance_addresses() -> list[str]:
    users = get_user_model().objects.filter(groups__name="finance", is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def customer_channels(customer: Customer) -> list[str]:
    channels = [c for b in customer.budgets.filter(is_active=True) for c in b.channels]
    return list(dict.fromkeys(channels or customer.billing_emails))


# --- Evaluation -----------------------------------------------------------------------


def budget_evaluate(budget: Budget, *, now: datetime | None = None) -> tuple[Decimal, Decimal | None, list[Alert]]:
    """Fire the thresholds and the forecast this budget has reached; returns (spend, budget in CNY, new alerts)."""
    now = now or timezone.now()
    today = business_day(now)
    period = today.replace(day=1)
    month_end = next_period(period) - timedelta(days=1)
    history_start = min(period, today - timedelta(days=28))
    daily = daily_spend_cny(budget.customer, history_start, today, **_scope_filter(budget))
    spend, limit = budget_use(budget, now=now)
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
                    "%(budget)s: spend this month is ¥%(spend)s, %(pct)s%% of the budget ¥%(limit)s (threshold %(t)d%%)."
                )
                % {
                    "budget": budget,
                    "spend": spend,
                    "pct": (spend * 100 / limit).quantize(Decimal("0.1")),
                    "limit": limit,
                    "t": threshold,
                },
                channels=budget.channels,
            )
            if alert:
                fired.append(alert)
    if spend < limit:
        forecast = forecast_month_end(daily, today=today, month_end=month_end, budget=limit)
        if forecast.projected >= limit and forecast.crossing_day is not None:
            alert = alert_fire(
                customer=budget.customer,
                budget=budget,
                kind=Alert.Kind.FORECAST,
                period=period,
                amount=spend,
                dedupe_key=f"forecast:{budget.pk}:{label}",
                message=_(
                    "%(budget)s: at the current pace the month ends near ¥%(projected)s; the budget ¥%(limit)s would be reached around %(day)s."
                )
                % {
                    "budget": budget,
                    "projected": quantize_money(forecast.projected),
                    "limit": limit,
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
    return fired


def budget_evaluation_request(*, customer_ids: set[int]) -> None:
    """After an ingestion batch commits: ask for one evaluation per customer, coalesced.

    The row's insert decides who enqueues: a burst of batches finds the row present and
    enqueues nothing; the task deletes the row when it starts, so later batches ask again.
    """
    if not customer_ids:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_budgetevaluationrequest (customer_id, requested_at) "
            "SELECT c, %s FROM unnest(%s::bigint[]) AS c "
            "WHERE EXISTS (SELECT 1 FROM billing_budget b WHERE b.customer_id = c AND b.is_active) "
            "ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id",
            [now, sorted(customer_ids)],
        )
        new = [row[0] for row in cursor.fetchall()]
    for customer_id in new:
        enqueue("billing.tasks.budgets_evaluate", customer_id, countdown=1)


def budgets_evaluate_claimed(*, customer_id: int) -> list[Alert]:
    BudgetEvaluationRequest.objects.filter(customer_id=customer_id).delete()
    return budgets_evaluate_customer(customer_id=customer_id)


def budgets_evaluate_all(*, now: datetime | None = None) -> int:
    """Beat (and ``manage.py evaluate_budgets``): evaluate every customer with an active
    budget — the month reset, forecasts, events a coalesced evaluation missed. Returns the
    number of alerts fired."""
    fired = 0
    for customer_id in Budget.objects.filter(is_active=True).values_list("customer_id", flat=True).distinct():
        fired += len(budgets_evaluate_customer(customer_id=customer_id, now=now))
    return fired


ALERT_DELIVERY_MAX_RETRIES = 6  # the delivery task's own retries: 30 s · (1 + 2 + … + 2^5) ≈ 32 min


def _enqueue_delivery(delivery_id: int, *, retries_spent: bool) -> None:
    # Retries already spent: a single attempt, no new backoff chain.
    options = {"retries": ALERT_DELIVERY_MAX_RETRIES} if retries_spent else {}
    enqueue("billing.tasks.alert_deliver", delivery_id, **options)


def alert_deliveries_retry(*, now: datetime | None = None, deliver=None) -> int:
    """Send again what a crashed worker left pending, and what is still failing after the
    delivery task's own retries (a channel down longer than its backoff): one more attempt
    per run, for a day after the alert fired. ``deliver(delivery_id, retries_spent=…)``
    defaults to enqueueing the delivery task; ``manage.py deliver_alerts`` sends at once."""
    from django.db.models import Q

    now = now or timezone.now()
    deliver = deliver or _enqueue_delivery
    # An hour is safely past the task's own retries.
    stale = AlertDelivery.objects.filter(
        Q(status=AlertDelivery.Status.PENDING, alert__created_at__lt=now - timedelta(minutes=10))
        | Q(
            status=AlertDelivery.Status.FAILED,
            alert__created_at__lt=now - timedelta(hours=1),
            alert__created_at__gte=now - timedelta(days=1),
        )
    )
    rows = list(stale.order_by("pk").values_list("pk", "status")[:1000])
    for pk, status in rows:
        try:
            deliver(pk, retries_spent=status != AlertDelivery.Status.PENDING)
        except Exception:  # noqa: BLE001 - recorded on the row; the next run tries again
            logger.warning("alert delivery retry failed", extra={"delivery": pk}, exc_info=True)
    return len(rows)


# --- Allowance ------------------------------------------------------------------------


# Everything the answer needs in one indexed query (key by its unique key_id, its allowance
# row by primary key, the contract in force as contract_in_force finds it): the gateway asks
# before every call, so the path must stay cheap. The columns and the join are shared with
# the gateway's fast path (procurement.fastpath), which asks them together with the token.
ALLOWANCE_COLUMNS = """
       k.customer_id,
       k.revoked_at IS NOT NULL,
       EXISTS (
           SELECT 1 FROM customers_contract c
           WHERE c.customer_id = k.customer_id AND c.status = %(active)s AND c.starts_on <= %(today)s
             AND (c.ends_on IS NULL OR c.ends_on >= %(today)s)
       ),
       coalesce(a.period = %(period)s AND a.blocked, false),
       CASE WHEN a.period = %(period)s THEN a.month_to_date END,
       CASE WHEN a.period = %(period)s THEN a.budget END"""
ALLOWANCE_JOIN = "LEFT JOIN billing_keyallowance a ON a.api_key_id = k.id"
ALLOWANCE_SQL = f"""
SELECT {ALLOWANCE_COLUMNS}
FROM customers_apikey k
{ALLOWANCE_JOIN}
WHERE k.key_id = %(key_id)s
"""


def allowance_params(key_id: str, today: date | None = None) -> dict:
    """The parameters ALLOWANCE_COLUMNS needs for ``key_id`` on ``today`` (a business day)."""
    today = today or business_day(timezone.now())
    return {"key_id": key_id, "today": today, "period": today.replace(day=1), "active": Contract.Status.ACTIVE}


def allowance_answer(key_id: str, row: tuple) -> tuple[int, dict]:
    """``(customer id, answer)`` from ALLOWANCE_COLUMNS' values. The first reason that applies
    wins: revoked, no_contract, hard_limit."""
    customer_id, revoked, in_contract, blocked, month_to_date, limit = row
    reason = None
    if revoked:
        reason = "revoked"
    elif not in_contract:
        reason = "no_contract"
    elif blocked:
        reason = "hard_limit"
    return customer_id, {
        "key_id": key_id,
        "allowed": reason is None,
        "reason": reason,
        "month_to_date": f"{(month_to_date if month_to_date is not None else ZERO):.2f}",
        "budget": None if limit is None else f"{limit:.2f}",
        "currency": "CNY",
    }


def key_allowance_lookup(*, key_id: str, today: date | None = None) -> tuple[int, dict] | None:
    """The gateway's question: may this key call now? ``(customer id, answer)``, or None for
    an unknown key."""
    with connection.cursor() as cursor:
        cursor.execute(ALLOWANCE_SQL, allowance_params(key_id, today))
        row = cursor.fetchone()
    return None if row is None else allowance_answer(key_id, row)


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
                    "%(customer)s spent ¥%(value)s on %(day)s; its usual day is ¥%(median)s (alert above ¥%(threshold)s)."
                )
                % {
                    "customer": customer.name,
                    "value": quantize_money(verdict.value),
                    "day": day.isoformat(),
                    "median": quantize_money(verdict.median),
                    "threshold": quantize_money(verdict.threshold),
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
                    message=_("Key %(key)s spent ¥%(value)s on %(model)s on %(day)s; usual ¥%(median)s.")
                    % {
                        "key": key_id,
                        "value": quantize_money(verdict.value),
                        "model": model,
                        "day": day.isoformat(),
                        "median": quantize_money(verdict.median),
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
                    "%(customer)s: spend so far this month ¥%(now)s is %(pct)s%% above the same days last month (¥%(before)s)."
                )
                % {
                    "customer": customer.name,
                    "now": quantize_money(this_month),
                    "pct": (growth * 100).quantize(Decimal("1")),
                    "before": quantize_money(last_month),
                },
                channels=channels,
                data={"scope": "month_over_month", "growth": str(growth.quantize(Decimal("0.0001")))},
            )
            fired += [alert] if alert else []
    return fired
