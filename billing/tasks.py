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
