"""Celery tasks: thin wrappers that take ids and call one service each.

Every periodic task has a management-command twin (close_month, mark_overdue, run_dunning,
evaluate_budgets, deliver_alerts, scan_anomalies) and is safe to run twice. Queues are
routed in settings (CELERY_TASK_ROUTES); the beat schedule is procurement/schedule.py.
Each task has a hard ``time_limit`` and a ``soft_time_limit`` a little before it, so that
a stuck database or SMTP server frees the worker instead of holding it for ever.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from billing.budgets.alerts import ALERT_DELIVERY_MAX_RETRIES

logger = logging.getLogger(__name__)


def _limits(seconds: int) -> dict:
    return {"time_limit": seconds, "soft_time_limit": seconds - max(5, seconds // 10)}


@shared_task(name="billing.tasks.month_close", **_limits(300))
def month_close(period: str | None = None) -> int:
    """Fan out: one task per customer to close ``period`` (default: the previous month)."""
    from billing.bills.close import customers_to_close
    from billing.periods import parse_period, previous_period

    month = parse_period(period) if period else previous_period()
    customer_ids = customers_to_close(month)
    for customer_id in customer_ids:
        month_close_customer.delay(customer_id, month.isoformat())
    logger.info("month close fanned out", extra={"period": str(month), "customers": len(customer_ids)})
    return len(customer_ids)


@shared_task(
    name="billing.tasks.month_close_customer", bind=True, max_retries=3, default_retry_delay=30, **_limits(900)
)
def month_close_customer(self, customer_id: int, period: str) -> list[str]:
    from datetime import date

    from billing.bills.close import month_close_customer as close
    from customers.models import Customer

    customer = Customer.objects.get(pk=customer_id)
    outcomes = close(customer=customer, period=date.fromisoformat(period))
    return [o.line() for o in outcomes]


@shared_task(
    name="billing.tasks.bill_render_and_send", bind=True, max_retries=5, default_retry_delay=60, **_limits(300)
)
def bill_render_and_send(self, bill_id: int) -> str:
    """Render the bill's PDF, then e-mail it to the billing contacts once."""
    from billing.bills.documents import bill_render_pdf, bill_send

    try:
        bill_render_pdf(bill_id=bill_id)
        sent = bill_send(bill_id=bill_id)
    except Exception as exc:  # noqa: BLE001 - retried with backoff; the error is logged by Celery
        raise self.retry(exc=exc, countdown=60 * (2**self.request.retries)) from exc
    return "sent" if sent else "already sent"


@shared_task(name="billing.tasks.bill_render_pdf", **_limits(300))
def bill_render_pdf_task(bill_id: int) -> None:
    from billing.bills.documents import bill_render_pdf

    bill_render_pdf(bill_id=bill_id)


@shared_task(name="billing.tasks.bills_mark_overdue", **_limits(600))
def bills_mark_overdue() -> int:
    from billing.bills.lifecycle import bills_mark_overdue as mark
    from billing.periods import business_day

    return mark(today=business_day(timezone.now()))


@shared_task(name="billing.tasks.dunning_run", **_limits(1800))
def dunning_run(day: str | None = None) -> str:
    """Beat, daily (twin: ``run_dunning``): mark overdue bills, then make and send the day's notices."""
    from datetime import date

    from billing.bills.dunning import dunning_run as run
    from billing.bills.lifecycle import bills_mark_overdue as mark
    from billing.periods import business_day

    today = date.fromisoformat(day) if day else business_day(timezone.now())
    mark(today=today)
    return run(today=today).line()


@shared_task(name="billing.tasks.usage_partitions_ahead", **_limits(300))
def usage_partitions_ahead() -> list[str]:
    from billing.metering.partitions import ensure_partitions_around
    from billing.periods import business_day

    return ensure_partitions_around(business_day(timezone.now()), months_back=0, months_ahead=3)


@shared_task(name="billing.tasks.budgets_evaluate", **_limits(120))
def budgets_evaluate(customer_id: int) -> int:
    """Coalesced evaluation after ingestion (see billing.metering.evaluation_requests.budget_evaluation_request)."""
    from billing.budgets.budgets import budgets_evaluate_claimed

    return len(budgets_evaluate_claimed(customer_id=customer_id))


@shared_task(name="billing.tasks.budgets_evaluate_all", **_limits(900))
def budgets_evaluate_all() -> int:
    """Beat: evaluate every customer with an active budget (month reset, forecasts, missed events)."""
    from billing.budgets.budgets import budgets_evaluate_all as evaluate_all

    return evaluate_all()


@shared_task(name="billing.tasks.alert_deliver", bind=True, max_retries=ALERT_DELIVERY_MAX_RETRIES, **_limits(60))
def alert_deliver(self, delivery_id: int) -> bool:
    """Send one alert to one channel; retried with exponential backoff (30 s, 1, 2, 4 … min).
    Alerts are sent by the customers' delivery runs (alert_deliveries_send); this task stays
    for messages queued before them and for sending one delivery by hand."""
    from billing.budgets.alerts import alert_deliver as deliver

    try:
        return deliver(delivery_id=delivery_id)
    except Exception as exc:  # noqa: BLE001 - the failure is recorded on the delivery row
        raise self.retry(exc=exc, countdown=30 * (2**self.request.retries)) from exc


@shared_task(name="billing.tasks.alert_deliveries_send", **_limits(300))
def alert_deliveries_send(customer_id: int) -> int:
    """One fair delivery run of a customer's alerts: a bounded number, then back in the queue."""
    from billing.budgets.alerts import alert_deliveries_send as send

    return send(customer_id=customer_id)


@shared_task(name="billing.tasks.alerts_retry_pending", **_limits(300))
def alerts_retry_pending() -> int:
    """Beat: one more attempt for deliveries left pending or still failing (see the service)."""
    from billing.budgets.alerts import alert_deliveries_retry

    return alert_deliveries_retry()


@shared_task(name="billing.tasks.anomalies_scan", **_limits(1800))
def anomalies_scan(day: str | None = None) -> int:
    """Beat, daily: yesterday against its trailing 28 days."""
    from datetime import date, timedelta

    from billing.budgets.anomalies import anomalies_scan as scan
    from billing.periods import business_day

    target = date.fromisoformat(day) if day else business_day(timezone.now()) - timedelta(days=1)
    return len(scan(day=target))
