"""Alert delivery is fair between customers (issue 21, finding 1): one customer's burst of
deliveries never delays another customer's alert by more than one bounded delivery run —
through a real Celery worker (in a thread) on a real Redis broker."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest

from billing.budgets.alerts import ALERT_DELIVERIES_PER_RUN, alert_fire
from billing.models import AlertDelivery, AlertDeliveryRequest
from tests.celery_helpers import worker_on_redis

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BURST_ALERTS = 40
CHANNELS = [f"ops{i}@acme.example.cn" for i in range(10)]


def wait_for(condition, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def fire(customer, n: int, channels: list[str]):
    return alert_fire(
        customer=customer,
        kind="threshold",
        period=date(2026, 11, 1),
        amount=Decimal("100"),
        dedupe_key=f"fairness:{customer.code}:{n}",
        message=f"alert {n}",
        channels=channels,
        threshold=n,
    )


def test_a_burst_of_one_customer_does_not_delay_another_customers_alert(acme, other_customer):
    with worker_on_redis():
        # ACME's burst: 40 alerts × 10 channels = 400 deliveries, all queued at once …
        for n in range(BURST_ALERTS):
            fire(acme, n, CHANNELS)
        # … then one alert of another customer.
        fire(other_customer, 1, ["finance@other.example.cn"])

        assert wait_for(lambda: not AlertDelivery.objects.exclude(status="sent").exists()), list(
            AlertDelivery.objects.values("status").order_by("status").distinct()
        )

    theirs = AlertDelivery.objects.get(alert__customer=other_customer)
    ours = AlertDelivery.objects.filter(alert__customer=acme)
    assert ours.count() == BURST_ALERTS * len(CHANNELS)
    fired = theirs.alert.created_at
    ahead = ours.filter(sent_at__gt=fired, sent_at__lt=theirs.sent_at).count()
    after = ours.filter(sent_at__gt=theirs.sent_at).count()
    # The other customer waited for at most ACME's run in progress and the one queued
    # before theirs — never for the rest of ACME's burst, which went on after.
    assert ahead <= 2 * ALERT_DELIVERIES_PER_RUN, (ahead, after)
    assert after > 0
    assert set(ours.values_list("attempts", flat=True)) == {1}  # each sent once
    assert not AlertDeliveryRequest.objects.exists()  # every queued run was taken
