"""Firing alerts and delivering them (e-mail, Apprise channels), with retries.

An alert row is keyed by a unique ``dedupe_key``, so it fires once. Deliveries are rows too
(alert × channel), each sent by its own retried task, so one failing channel never blocks
another and a crash leaves them pending for the sweep to retry.
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
from billing.models import Alert, AlertDelivery, Budget
from billing.pricing.money import quantize_money
from common.tasks import enqueue, enqueue_on_commit
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


def customer_set(customer_id: int, channel: str) -> bool:
    """Whether ``channel`` is a URL the customer set, checked before each send
    (budgets.channels.check_before_send); one our staff set on a budget may be any URL,
    their own systems included. E-mail goes through our own mail server."""
    if "://" not in channel:
        return False
    return not Budget.objects.filter(
        customer_id=customer_id, channels_by_staff=True, channels__contains=[channel]
    ).exists()


def channel_test_send(*, budget: Budget, channel: str) -> bool:
    """The "send test" of one of ``budget``'s channels, by the path alerts take. The reason
    of a failure goes to our log only: a customer must not learn from it what our servers
    can reach."""
    if channel not in budget.channels:
        raise ValidationError({"channel": [_("This budget has no such channel.")]})
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
