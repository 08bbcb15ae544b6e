"""Firing alerts and delivering them (e-mail, Apprise channels), with retries.

An alert row is keyed by a unique ``dedupe_key``, so it fires once. Deliveries are rows too
(alert × channel); one failing channel never blocks another and a crash leaves them pending
for the sweep to retry.

Fair between customers: deliveries are sent by *per-customer delivery runs*
(``alert_deliveries_send``), each sending at most ALERT_DELIVERIES_PER_RUN and then asking
for another run, which joins the queue behind every other customer's. At most one run per
customer is queued (AlertDeliveryRequest) and one runs (an advisory lock), so a customer
whose budgets fire thousands of deliveries delays another customer's alert by one run at
most, never by their whole burst. A failed delivery is tried again by its customer's runs
with backoff (30 s, 1, 2 … 16 min), then by the hourly sweep for a day.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.budgets.channels import check_before_send
from billing.models import Alert, AlertDelivery, AlertDeliveryRequest, Budget, BudgetTestSend
from billing.pricing.money import quantize_money
from common.tasks import enqueue
from customers.models import Customer

logger = logging.getLogger(__name__)

# What a customer reads when their channel failed (the reason is in our log only).
CUSTOMER_DELIVERY_ERROR = "the channel could not be reached"

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
    # One coalesced request for the customer's delivery run (never one task per channel: a
    # burst of one customer must not queue ahead of everyone's alerts); robust, so that a
    # failure to enqueue never undoes the alert — the deliveries stay for the sweep.
    if deliveries:
        transaction.on_commit(lambda: alert_deliveries_request(customer_id=customer.pk), robust=True)
    return alert


# --- Fair delivery: one bounded run per customer at a time ---------------------------------

ALERT_DELIVERIES_PER_RUN = 10
DELIVERY_LOCK_NAMESPACE = 7303  # advisory locks: one delivery run per customer at a time
DELIVERY_TASK = "billing.tasks.alert_deliveries_send"


def alert_deliveries_request(*, customer_id: int) -> bool:
    """Queue a delivery run for the customer unless one is queued already; True when queued.
    Never raises: with the broker down the request is taken back, and the deliveries wait
    for the next request or the sweep."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO billing_alertdeliveryrequest (customer_id, requested_at) VALUES (%s, %s) "
                "ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id",
                [customer_id, timezone.now()],
            )
            if cursor.fetchone() is None:
                return False
        enqueue(DELIVERY_TASK, customer_id)
    except Exception:  # noqa: BLE001 - the broker's errors vary by transport; the sweep asks again
        logger.warning("alert delivery run not queued", extra={"customer": customer_id}, exc_info=True)
        try:
            AlertDeliveryRequest.objects.filter(customer_id=customer_id).delete()
        except Exception:  # noqa: BLE001
            logger.warning("alert delivery request not released", exc_info=True)
        return False
    return True


def _due(customer_id: int, now: datetime):
    from django.db.models import Q

    return AlertDelivery.objects.filter(alert__customer_id=customer_id).filter(
        Q(status=AlertDelivery.Status.PENDING)
        | Q(status=AlertDelivery.Status.FAILED, next_attempt_at__isnull=False, next_attempt_at__lte=now)
    )


@contextmanager
def _delivery_lock(customer_id: int) -> Iterator[bool]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [DELIVERY_LOCK_NAMESPACE, customer_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [DELIVERY_LOCK_NAMESPACE, customer_id])


def _after_failure(delivery_id: int) -> datetime | None:
    """The next attempt of a delivery that just failed: backoff while its retries last."""
    delivery = AlertDelivery.objects.filter(pk=delivery_id).only("status", "attempts").first()
    if delivery is None or delivery.status != AlertDelivery.Status.FAILED:
        return None
    moment = None
    if delivery.attempts <= ALERT_DELIVERY_MAX_RETRIES:
        moment = timezone.now() + timedelta(seconds=30 * 2 ** (delivery.attempts - 1))
    AlertDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=moment)
    return moment


def alert_deliveries_send(*, customer_id: int, limit: int = ALERT_DELIVERIES_PER_RUN) -> int:
    """One delivery run: send at most ``limit`` of the customer's due deliveries (oldest
    first), then ask for another run if more are due — it queues behind other customers'.
    Returns the number of deliveries attempted (0 when another run of the customer holds
    the lock: that run asks again for whatever it leaves)."""
    AlertDeliveryRequest.objects.filter(customer_id=customer_id).delete()  # later alerts ask again
    attempted = 0
    retry_at: list[datetime] = []
    with _delivery_lock(customer_id) as locked:
        if not locked:
            return 0
        for _n in range(limit):
            delivery_id = _due(customer_id, timezone.now()).order_by("pk").values_list("pk", flat=True).first()
            if delivery_id is None:
                break
            attempted += 1
            try:
                alert_deliver(delivery_id=delivery_id)
            except Exception:  # noqa: BLE001 - recorded on the row by alert_deliver
                moment = _after_failure(delivery_id)
                if moment is not None:
                    retry_at.append(moment)
    # After the lock is released: a run that found it taken has gone, and this one asks again.
    if _due(customer_id, timezone.now()).exists():
        alert_deliveries_request(customer_id=customer_id)
    elif retry_at:
        # The backoff of this run's failures (only after a failure: a run finding nothing due
        # schedules nothing, so no chain of empty runs).
        countdown = max(1, int((min(retry_at) - timezone.now()).total_seconds()) + 1)
        try:
            enqueue(DELIVERY_TASK, customer_id, countdown=countdown)
        except Exception:  # noqa: BLE001 - the sweep tries again
            logger.warning("alert delivery retry not queued", extra={"customer": customer_id}, exc_info=True)
    return attempted


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


def customer_set(customer_id: int, channel: str) -> bool:
    """Whether ``channel`` is one the customer set, checked before each send
    (budgets.channels.check_before_send); one our staff set on a budget may be any URL,
    their own systems included. An e-mail address is the customer's when it is on a budget
    the customer set (the customer's billing addresses and our finance's are ours)."""
    if "://" not in channel:
        return Budget.objects.filter(
            customer_id=customer_id, channels_by_staff=False, channels__contains=[channel]
        ).exists()
    return not Budget.objects.filter(
        customer_id=customer_id, channels_by_staff=True, channels__contains=[channel]
    ).exists()


MAX_TEST_SENDS_PER_HOUR = 10  # per budget, whatever the channel and whether it went


class TestSendLimit(Exception):
    """The budget's test sends of the last hour are used up; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(_("At most %(n)d test notifications an hour per budget.") % {"n": MAX_TEST_SENDS_PER_HOUR})
        self.retry_after = retry_after


def _count_test_send(budget: Budget) -> None:
    """Record one test send of ``budget``, or raise TestSendLimit (counted under the budget's
    row lock, so concurrent clicks cannot pass the limit together)."""
    now = timezone.now()
    with transaction.atomic():
        Budget.objects.select_for_update().filter(pk=budget.pk).first()
        recent = list(
            BudgetTestSend.objects.filter(budget=budget, sent_at__gt=now - timedelta(hours=1))
            .order_by("sent_at")
            .values_list("sent_at", flat=True)
        )
        if len(recent) >= MAX_TEST_SENDS_PER_HOUR:
            raise TestSendLimit(retry_after=max(1, int((recent[0] + timedelta(hours=1) - now).total_seconds()) + 1))
        BudgetTestSend.objects.filter(budget=budget, sent_at__lte=now - timedelta(hours=1)).delete()
        BudgetTestSend.objects.create(budget=budget, sent_at=now)


def channel_test_send(*, budget: Budget, channel: str) -> bool:
    """The "send test" of one of ``budget``'s channels, by the path alerts take. The reason
    of a failure goes to our log only: a customer must not learn from it what our servers
    can reach. At most MAX_TEST_SENDS_PER_HOUR per budget (TestSendLimit beyond)."""
    if channel not in budget.channels:
        raise ValidationError({"channel": [_("This budget has no such channel.")]})
    _count_test_send(budget)
    subject = _("[Procurement Center] %(customer)s: test notification") % {"customer": budget.customer.name}
    body = _("A test of the alert channel of the budget %(budget)s. Alerts will arrive here.") % {"budget": budget}
    try:
        if customer_set(budget.customer_id, channel):
            check_before_send(channel)
        _send(channel, subject, body)
    except Exception:  # noqa: BLE001 - any failure is one answer to the customer
        logger.warning("test notification to a channel of budget %s failed", budget.pk, exc_info=True)
        return False
    return True


def alert_deliver(*, delivery_id: int) -> bool:
    """Send one delivery; records sent or failed + error. Raises on failure so the task retries.

    A customer's channel that fails records only CUSTOMER_DELIVERY_ERROR (customers read the
    deliveries): the reason, which would tell what our servers can reach, goes to our log."""
    delivery = AlertDelivery.objects.select_related("alert__customer").get(pk=delivery_id)
    if delivery.status == AlertDelivery.Status.SENT:
        return True
    alert = delivery.alert
    subject = _("[Procurement Center] %(customer)s: %(kind)s alert") % {
        "customer": alert.customer.name,
        "kind": alert.get_kind_display(),
    }
    delivery.attempts += 1
    customer_channel = customer_set(alert.customer_id, delivery.channel)
    try:
        if customer_channel:
            check_before_send(delivery.channel)
        _send(delivery.channel, subject, alert.message)
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the task's retry
        delivery.status = AlertDelivery.Status.FAILED
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000] if not customer_channel else CUSTOMER_DELIVERY_ERROR
        delivery.save(update_fields=["status", "attempts", "last_error"])
        if customer_channel:
            logger.warning("alert delivery %s to a customer's channel failed", delivery.pk, exc_info=True)
        raise
    delivery.status = AlertDelivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    return True


def finance_addresses() -> list[str]:
    users = get_user_model().objects.filter(groups__name="finance", is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def staff_notify(*, channels: list[str], subject: str, body: str) -> list[str]:
    """Send a notice to our own staff's channels (finance_addresses(), …) by the path alerts
    take, for what concerns no one customer (e.g. a gateway whose logs do not match our
    usage). Returns the channels that failed (the reasons go to our log)."""
    failed = []
    for channel in dict.fromkeys(channels):
        try:
            _send(channel, subject, body)
        except Exception:  # noqa: BLE001 - one failing channel must not stop the others
            logger.warning("staff notification to %s failed", channel, exc_info=True)
            failed.append(channel)
    return failed


def customer_channels(customer: Customer) -> list[str]:
    channels = [c for b in customer.budgets.filter(is_active=True) for c in b.channels]
    return list(dict.fromkeys(channels or customer.billing_emails))


ALERT_DELIVERY_MAX_RETRIES = 6  # the delivery task's own retries: 30 s · (1 + 2 + … + 2^5) ≈ 32 min


def alert_deliveries_retry(*, now: datetime | None = None, deliver=None) -> int:
    """Send again what a crashed worker left pending, and what is still failing after the
    delivery task's own retries (a channel down longer than its backoff): one more attempt
    per run, for a day after the alert fired. By default each customer with such deliveries
    gets one (coalesced) delivery run, which sends them fairly; ``manage.py deliver_alerts``
    passes ``deliver(delivery_id, retries_spent=…)`` to send at once."""
    from django.db.models import Q

    now = now or timezone.now()
    # An hour is safely past the task's own retries.
    stale = AlertDelivery.objects.filter(
        Q(status=AlertDelivery.Status.PENDING, alert__created_at__lt=now - timedelta(minutes=10))
        | Q(
            status=AlertDelivery.Status.FAILED,
            alert__created_at__lt=now - timedelta(hours=1),
            alert__created_at__gte=now - timedelta(days=1),
        )
    )
    if deliver is None:
        rows = list(stale.order_by("pk").values_list("pk", "alert__customer_id")[:1000])
        # Due now for the runs; a request left by a run whose message was lost is dropped.
        AlertDelivery.objects.filter(pk__in=[pk for pk, _c in rows]).update(next_attempt_at=now)
        AlertDeliveryRequest.objects.filter(requested_at__lt=now - timedelta(minutes=10)).delete()
        for customer_id in dict.fromkeys(c for _pk, c in rows):
            alert_deliveries_request(customer_id=customer_id)
        return len(rows)
    rows = list(stale.order_by("pk").values_list("pk", "status")[:1000])
    for pk, status in rows:
        try:
            deliver(pk, retries_spent=status != AlertDelivery.Status.PENDING)
        except Exception:  # noqa: BLE001 - recorded on the row; the next run tries again
            logger.warning("alert delivery retry failed", extra={"delivery": pk}, exc_info=True)
    return len(rows)
