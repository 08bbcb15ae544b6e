"""Alert delivery per channel: e-mail (Django's outbox) and apprise URLs against a local HTTP
sink; a failing channel is recorded with its error, never blocks the others, and is sent by
the retry sweep once it recovers. Also GET /api/v1/alerts/."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing import tasks
from billing.budgets.alerts import alert_deliver
from billing.budgets.budgets import budget_create
from billing.models import Alert, AlertDelivery
from tests.billing.alerts_helpers import HttpSink, free_port, ingest_committed, meter_price, spend
from tests.billing.helpers import shanghai

pytestmark = pytest.mark.django_db

NOW = shanghai(2026, 11, 20, 12)
EMAIL = "ops@acme.example.cn"
ALERTS = "/api/v1/alerts/"


@pytest.fixture(autouse=True)
def _noon_on_20_november():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sink():
    server = HttpSink()
    yield server
    server.close()


def budget_with(customer, channels: list[str], amount: str = "1000"):
    meter_price()
    return budget_create(
        customer=customer, scope="customer", target=None, monthly_amount=Decimal(amount), channels=channels, staff=True
    )


def cross_half(capture, key, amount: str = "500") -> Alert:
    ingest_committed(capture, [spend(key.key_id, amount, date(2026, 11, 20))])
    return Alert.objects.get(kind="threshold", threshold=50)


def deliveries(alert: Alert) -> dict[str, tuple[str, int, str]]:
    return {d.channel: (d.status, d.attempts, d.last_error) for d in alert.deliveries.all()}


def test_it_delivers_to_email_and_an_apprise_url(acme, acme_key, sink, django_capture_on_commit_callbacks):
    budget_with(acme, [sink.url, EMAIL])
    alert = cross_half(django_capture_on_commit_callbacks, acme_key)
    assert deliveries(alert) == {sink.url: ("sent", 1, ""), EMAIL: ("sent", 1, "")}
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert "上海阿克米信息技术有限公司" in mail.outbox[0].subject
    assert len(sink.received) == 1
    assert sink.received[0]["title"] == mail.outbox[0].subject
    assert sink.received[0]["message"] == alert.message
    assert "¥500.00" in alert.message and "50%" in alert.message


def test_a_failing_channel_is_recorded_and_does_not_block_email(
    acme, acme_key, sink, django_capture_on_commit_callbacks
):
    sink.status = 500
    budget_with(acme, [sink.url, EMAIL])  # the failing channel first
    alert = cross_half(django_capture_on_commit_callbacks, acme_key)
    status, attempts, error = deliveries(alert)[sink.url]
    # Celery runs eagerly in tests: the first attempt fails and its retry is not run here.
    assert (status, attempts) == ("failed", 1)
    assert "500" in error
    assert deliveries(alert)[EMAIL] == ("sent", 1, "")
    assert [m.to for m in mail.outbox] == [[EMAIL]]

    # The sink recovers; after the task's own retries are spent, the sweep sends it.
    sink.status = 200
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        assert tasks.alerts_retry_pending() == 0  # still inside the task's backoff window
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.alerts_retry_pending() == 1
        assert tasks.alerts_retry_pending() == 0
    assert deliveries(alert)[sink.url] == ("sent", 2, "")
    assert len(sink.received) == 1
    assert len(mail.outbox) == 1  # the e-mail is not sent again


def test_the_sweep_tries_a_still_failing_channel_once_per_run(acme, acme_key, sink, django_capture_on_commit_callbacks):
    sink.status = 500
    budget_with(acme, [sink.url])
    alert = cross_half(django_capture_on_commit_callbacks, acme_key)
    first = deliveries(alert)[sink.url][1]
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert tasks.alerts_retry_pending() == 1
    assert deliveries(alert)[sink.url][:2] == ("failed", first + 1)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        assert tasks.alerts_retry_pending() == 0  # given up after a day


def test_an_unreachable_channel_is_recorded_failed(acme, acme_key, django_capture_on_commit_callbacks):
    dead = f"json://127.0.0.1:{free_port()}/"
    budget_with(acme, [dead, EMAIL])
    alert = cross_half(django_capture_on_commit_callbacks, acme_key)
    status, _attempts, error = deliveries(alert)[dead]
    assert status == "failed"
    assert error
    assert deliveries(alert)[EMAIL][0] == "sent"


def test_it_sends_a_delivery_once(acme, acme_key, django_capture_on_commit_callbacks):
    budget_with(acme, [EMAIL])
    alert = cross_half(django_capture_on_commit_callbacks, acme_key)
    delivery = alert.deliveries.get()
    assert alert_deliver(delivery_id=delivery.pk) is True
    tasks.alert_deliver(delivery.pk)
    assert len(mail.outbox) == 1
    assert deliveries(alert) == {EMAIL: ("sent", 1, "")}


def test_the_sweep_sends_what_a_crashed_worker_left_pending(acme, acme_key, django_capture_on_commit_callbacks):
    budget_with(acme, [EMAIL])
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "500", date(2026, 11, 20))])
    AlertDelivery.objects.update(status="pending", attempts=0)  # as if the worker died before sending
    mail.outbox.clear()
    assert tasks.alerts_retry_pending() == 0  # too fresh: its task may still be queued
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        assert tasks.alerts_retry_pending() == 1
    assert AlertDelivery.objects.get().status == "sent"
    assert len(mail.outbox) == 1


# --- GET /api/v1/alerts/ --------------------------------------------------------------------------


@pytest.fixture
def fired(acme, acme_key, other_customer, other_key, sink, django_capture_on_commit_callbacks):
    """ACME: 50 % and 80 % alerts in November; OTHER: one 50 % alert."""
    budget = budget_with(acme, [EMAIL, sink.url])
    budget_create(customer=other_customer, scope="customer", target=None, monthly_amount=Decimal("100"))
    ingest_committed(
        django_capture_on_commit_callbacks,
        [spend(acme_key.key_id, "850", date(2026, 11, 20)), spend(other_key.key_id, "60", date(2026, 11, 20))],
    )
    return budget


def test_it_lists_alerts_in_the_contract_shape(finance_client, fired, sink):
    response = finance_client.get(ALERTS, {"customer": "ACME"})
    assert response.status_code == 200, response.content
    items = sorted(response.json(), key=lambda a: a["threshold"])
    assert [
        {k: a[k] for k in ("customer", "budget", "kind", "threshold", "period", "amount", "delivered_to")}
        for a in items
    ] == [
        {
            "customer": "ACME",
            "budget": fired.pk,
            "kind": "threshold",
            "threshold": threshold,
            "period": "2026-11",
            "amount": "850.00",
            "delivered_to": [EMAIL, sink.url],
        }
        for threshold in (50, 80)
    ]
    for item in items:
        assert isinstance(item["id"], int)
        assert item["created_at"] == "2026-11-20T04:00:00+00:00"


def test_it_filters_alerts_by_customer_period_and_kind(finance_client, fired):
    assert len(finance_client.get(ALERTS).json()) == 3
    assert len(finance_client.get(ALERTS, {"customer": "OTHER"}).json()) == 1
    assert len(finance_client.get(ALERTS, {"period": "2026-11", "kind": "threshold"}).json()) == 3
    assert finance_client.get(ALERTS, {"period": "2026-10"}).json() == []
    assert finance_client.get(ALERTS, {"kind": "forecast"}).json() == []
    assert finance_client.get(ALERTS, {"kind": "panic"}).status_code == 400
    assert list(finance_client.get(ALERTS, {"period": "11/2026"}).json()["errors"]) == ["period"]
    assert finance_client.get(ALERTS, {"customer": "NOBODY"}).status_code == 404


def test_it_shows_a_customer_its_own_alerts_only(alice_client, bob_client, charlie_client, gateway_client, fired):
    assert len(alice_client.get(ALERTS).json()) == 2
    assert len(bob_client.get(ALERTS, {"customer": "ACME"}).json()) == 2  # developers read alerts
    assert [a["customer"] for a in charlie_client.get(ALERTS).json()] == ["OTHER"]
    assert charlie_client.get(ALERTS, {"customer": "ACME"}).status_code == 404
    assert gateway_client.get(ALERTS).status_code == 403
