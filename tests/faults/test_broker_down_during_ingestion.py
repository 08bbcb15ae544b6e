"""The broker down while the gateway reports usage (issue 14, faults survived; issue 16 item 6):
ingestion keeps answering 200 for what it stored, no evaluation request is left stranded,
and once the broker is back the budgets catch up — by the five-minute sweep or the next
batch — with each threshold alert fired and delivered exactly once."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

import procurement
from billing.budgets.budgets import budget_create
from billing.models import Alert, AlertDelivery, BudgetEvaluationRequest
from tests.billing.alerts_helpers import METER_MODEL, METER_PROVIDER, meter_price
from tests.billing.helpers import INGEST_URL, usage
from tests.celery_helpers import eager_restored, use_broker, worker_on_redis

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EMAIL = "ops@acme.example.cn"
DEAD_BROKER = "redis://127.0.0.1:9/0"  # nothing listens there: every publish is refused


def spend(key, tag: str, cny: int) -> list[dict]:
    moment = (timezone.now() - timedelta(minutes=1)).isoformat()
    return [
        usage(
            key.key_id,
            f"{tag}-{i}",
            provider=METER_PROVIDER,
            model=METER_MODEL,
            input_tokens=100_000,  # 100 CNY each
            cached_input_tokens=0,
            output_tokens=0,
            occurred_at=moment,
        )
        for i in range(cny // 100)
    ]


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_ingestion_answers_while_the_broker_is_down_and_budgets_catch_up(clean_usage, acme, acme_key, gateway_client):
    meter_price()
    budget = budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"), channels=[EMAIL]
    )

    with eager_restored():
        use_broker(DEAD_BROKER)
        started = time.monotonic()
        answer = gateway_client.post(INGEST_URL, {"records": spend(acme_key, "down", 600)}, format="json")
        took = time.monotonic() - started
    assert answer.status_code == 200, answer.content
    assert answer.json()["accepted"] == 6
    assert took < 10  # the failed publish does not hold the gateway up for long
    assert not BudgetEvaluationRequest.objects.exists()  # released: the next batch asks again
    assert not Alert.objects.exists()

    with worker_on_redis():
        # The beat's sweep (every five minutes) catches up with the 600 CNY stored while down.
        procurement.celery_app.send_task("billing.tasks.budgets_evaluate_all", queue="notify")
        assert wait_for(lambda: AlertDelivery.objects.filter(status="sent").exists())
        # The next batch asks for an evaluation again: it runs, and fires nothing new.
        answer = gateway_client.post(INGEST_URL, {"records": spend(acme_key, "back", 100)}, format="json")
        assert answer.status_code == 200
        assert wait_for(lambda: not BudgetEvaluationRequest.objects.exists())
        time.sleep(2)  # anything the worker would (wrongly) do twice shows up by now

    alerts = list(Alert.objects.values_list("budget_id", "kind", "threshold"))
    assert alerts == [(budget.pk, "threshold", 50)]
    assert list(AlertDelivery.objects.values_list("channel", "status", "attempts")) == [(EMAIL, "sent", 1)]
    assert [m.to for m in mail.outbox] == [[EMAIL]]


def test_a_batch_committed_is_never_answered_as_an_error_when_the_hook_fails(
    clean_usage, acme, acme_key, gateway_client, monkeypatch
):
    """The post-commit evaluation request meets a dead connection: the batch was stored, so
    the answer is 200 and the evaluation is asked for directly."""
    from django.db import OperationalError

    from billing.metering import evaluation_requests

    meter_price()
    budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"), channels=[EMAIL])
    asked = []

    def dead_connection(customer_ids):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(evaluation_requests, "_claim", dead_connection)
    monkeypatch.setattr(
        evaluation_requests, "enqueue", lambda name, customer_id, **_: asked.append((name, customer_id))
    )
    answer = gateway_client.post(INGEST_URL, {"records": spend(acme_key, "hook", 300)}, format="json")
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 3
    assert asked == [("billing.tasks.budgets_evaluate", acme.pk)]
