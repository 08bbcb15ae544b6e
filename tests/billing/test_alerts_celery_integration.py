"""One ingestion batch → one coalesced evaluation → one threshold alert, delivered to every
channel, through a real Celery worker (in a thread) and a real Redis broker."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing.budgets.budgets import budget_create
from billing.metering.ingest import usage_ingest_batch
from billing.models import Alert, AlertDelivery, BudgetEvaluationRequest
from tests.billing.alerts_helpers import METER_MODEL, METER_PROVIDER, HttpSink, meter_price
from tests.billing.helpers import usage
from tests.celery_helpers import worker_on_redis

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EMAIL = "ops@acme.example.cn"


@pytest.fixture
def celery_worker():
    """A worker thread consuming from Redis, with eager execution off for the test."""
    with worker_on_redis() as worker:
        yield worker


@pytest.fixture
def sink():
    server = HttpSink()
    yield server
    server.close()


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_an_ingestion_batch_leads_to_one_threshold_alert_delivered(clean_usage, acme, acme_key, sink, celery_worker):
    meter_price()
    budget = budget_create(
        customer=acme,
        scope="customer",
        target=None,
        monthly_amount=Decimal("1000"),
        channels=[EMAIL, sink.url],
        staff=True,
    )
    moment = (timezone.now() - timedelta(minutes=1)).isoformat()
    records = [
        usage(
            acme_key.key_id,
            f"celery-{i}",
            provider=METER_PROVIDER,
            model=METER_MODEL,
            input_tokens=200_000,  # 200 CNY each
            cached_input_tokens=0,
            output_tokens=0,
            occurred_at=moment,
        )
        for i in range(3)
    ]
    result = usage_ingest_batch(records=records)
    assert result.accepted == 3
    # Not eager: the evaluation waits in Redis (countdown 1 s) for the worker.
    assert BudgetEvaluationRequest.objects.exists()
    assert not Alert.objects.exists()

    def delivered() -> bool:
        statuses = list(AlertDelivery.objects.values_list("status", flat=True))
        return len(statuses) == 2 and set(statuses) == {"sent"}

    assert wait_for(delivered), list(AlertDelivery.objects.values("channel", "status", "last_error"))
    time.sleep(2)  # anything else the worker would (wrongly) do shows up by now

    alerts = list(Alert.objects.all())
    assert [(a.budget_id, a.kind, a.threshold, a.amount) for a in alerts] == [
        (budget.pk, "threshold", 50, Decimal("600.00"))
    ]
    assert sorted(AlertDelivery.objects.values_list("channel", "status", "attempts")) == [
        (sink.url, "sent", 1),
        (EMAIL, "sent", 1),
    ]
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert len(sink.received) == 1
    assert not BudgetEvaluationRequest.objects.exists()  # the worker claimed the request
