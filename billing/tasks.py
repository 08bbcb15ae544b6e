"""Celery tasks: thin wrappers that take ids and call one service each.

Every task has a management-command twin (close_month, …) and is safe to run twice.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="billing.tasks.month_close")
def month_close(period: str | None = None) -> int:
    """Fan out: one task per customer to close ``period`` (default: the previous month)."""
    from billing.close import customers_to_close
    from billing.periods import parse_period, previous_period

    month = parse_period(period) if period else previous_period()
    customer_ids = customers_to_close(month)
    for customer_id in customer_ids:
        month_close_customer.delay(customer_id, month.isoformat())
    logger.info("month close fanned out", extra={"period": str(month), "customers": len(customer_ids)})
    return len(customer_ids)


@shared_task(name="billing.tasks.month_close_customer", bind=True, max_retries=3, default_retry_delay=30)
def month_close_customer(self, customer_id: int, period: str) -> list[str]:
    from datetime import date

    from billing.close import month_close_customer as close
    from customers.models import Customer

    customer = Customer.objects.get(pk=customer_id)
    outcomes = close(customer=customer, period=date.fromisoformat(period))
    return [o.line() for o in outcomes]


@shared_task(name="billing.tasks.bill_render_and_send", bind=True, max_retries=5, default_retry_delay=60)
def bill_render_and_send(self, bill_id: int) -> str:
    """Render the bill's PDF, then e-mail it to the billing contacts once."""
    from billing.documents import bill_render_pdf, bill_send

    try:
        bill_render_pdf(bill_id=bill_id)
        sent = bill_send(bill_id=bill_id)
    except Exception as exc:  # noqa: BLE001 - retried with backoff; the error is logged by Celery
        raise self.retry(exc=exc, countdown=60 * (2**self.request.retries)) from exc
    return "sent" if sent else "already sent"


@shared_task(name="billing.tasks.bill_render_pdf")
def bill_render_pdf_task(bill_id: int) -> None:
    from billing.documents import bill_render_pdf

    bill_render_pdf(bill_id=bill_id)


@shared_task(name="billing.tasks.bills_mark_overdue")
def bills_mark_overdue() -> int:
    from billing.payments import bills_mark_overdue as mark

    return mark(today=timezone.localdate())


@shared_task(name="billing.tasks.usage_partitions_ahead")
def usage_partitions_ahead() -> list[str]:
    from billing.partitions import ensure_partitions_around
    from billing.periods import business_day

    return ensure_partitions_around(business_day(timezone.now()), months_back=0, months_ahead=3)


@shared_task(name="billing.tasks.budgets_evaluate")
def budgets_evaluate(customer_id: int) -> int:
    """Coalesced evaluation after ingestion (see billing.budgets.budget_evaluation_request)."""
    from billing.budgets import budgets_evaluate_claimed

    return len(budgets_evaluate_claimed(customer_id=customer_id))


@shared_task(name="billing.tasks.budgets_evaluate_all")
def budgets_evaluate_all() -> int:
    """Beat: evaluate every customer with an active budget (month reset, forecasts, missed events)."""
    from billing.budgets import budgets_evaluate_customer
    from billing.models import Budget

    fired = 0
    for customer_id in Budget.objects.filter(is_active=True).values_list("customer_id", flat=True).distinct():
        fired += len(budgets_evaluate_customer(customer_id=customer_id))
    return fired


@shared_task(name="billing.tasks.alert_deliver", bind=True, max_retries=6)
def alert_deliver(self, delivery_id: int) -> bool:
    """Send one alert to one channel; retried with exponential backoff (30 s, 1, 2, 4 … min)."""
    from billing.budgets import alert_deliver as deliver

    try:
        return deliver(delivery_id=delivery_id)
    except Exception as exc:  # noqa: BLE001 - the failure is recorded on the delivery row
        raise self.retry(exc=exc, countdown=30 * (2**self.request.retries)) from exc


@shared_task(name="billing.tasks.alerts_retry_pending")
def alerts_retry_pending() -> int:
    """Beat: send again what a crashed worker left pending, and what is still failing after the
    delivery task's own retries (a channel down longer than its backoff): one more attempt per
    run, for a day after the alert fired."""
    from datetime import timedelta

    from django.db.models import Q

    from billing.models import AlertDelivery

    now = timezone.now()
    # The task's retries wait 30 s · (1 + 2 + … + 2^5) ≈ 32 min in all; an hour is safely past them.
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
            if status == AlertDelivery.Status.PENDING:
                alert_deliver.delay(pk)
            else:  # retries already spent: a single attempt, no new backoff chain
                alert_deliver.apply_async((pk,), retries=alert_deliver.max_retries)
        except Exception:  # noqa: BLE001 - recorded on the row; the next run tries again
            logger.warning("alert delivery retry failed", extra={"delivery": pk}, exc_info=True)
    return len(rows)


@shared_task(name="billing.tasks.anomalies_scan")
def anomalies_scan(day: str | None = None) -> int:
    """Beat, daily: yesterday against its trailing 28 days."""
    from datetime import date, timedelta

    from billing.budgets import anomalies_scan as scan
    from billing.periods import business_day

    target = date.fromisoformat(day) if day else business_day(timezone.now()) - timedelta(days=1)
    return len(scan(day=target))
