"""A mail server that accepts the connection and then hangs (issue 14, faults survived):
alert and bill e-mails fail after EMAIL_TIMEOUT instead of holding a worker, are retried
with backoff, and once the server answers again each is sent exactly once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings

from billing import tasks
from billing.budgets.alerts import CUSTOMER_DELIVERY_ERROR
from billing.budgets.budgets import budget_create
from billing.models import Alert, AlertDelivery, Bill
from tests.billing.alerts_helpers import ingest_committed, meter_price, spend
from tests.billing.helpers import shanghai
from tests.faults.sinks import BlackHole, SmtpSink

pytestmark = pytest.mark.django_db

NOW = shanghai(2026, 11, 20, 12)
EMAIL = "ops@acme.example.cn"


def smtp(port: int):
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=1,
    )


@pytest.fixture
def black_hole():
    server = BlackHole()
    yield server
    server.close()


@pytest.fixture
def sink():
    server = SmtpSink()
    yield server
    server.close()


def test_the_timeout_is_set_for_production():
    from django.conf import settings

    assert settings.EMAIL_TIMEOUT == 10


def test_an_alert_e_mail_survives_a_hung_mail_server(
    acme, acme_key, black_hole, sink, django_capture_on_commit_callbacks, caplog
):
    meter_price()
    budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"), channels=[EMAIL])
    with time_machine.travel(NOW, tick=False), smtp(black_hole.port):
        ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "500", date(2026, 11, 20))])
    alert = Alert.objects.get(kind="threshold", threshold=50)
    delivery = alert.deliveries.get(channel=EMAIL)
    # The attempt timed out after EMAIL_TIMEOUT instead of hanging; the task asked for a retry.
    assert delivery.status == AlertDelivery.Status.FAILED
    assert delivery.attempts == 1
    # The customer reads a plain reason; the timeout itself is in our log only.
    assert delivery.last_error == CUSTOMER_DELIVERY_ERROR
    assert any("timed out" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert len(black_hole.accepted) == 1

    # A still hung server an hour later: the sweep's attempt times out too.
    with time_machine.travel(NOW + timedelta(hours=1, minutes=1), tick=False), smtp(black_hole.port):
        assert tasks.alerts_retry_pending() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (AlertDelivery.Status.FAILED, 2)

    with time_machine.travel(NOW + timedelta(hours=2), tick=False), smtp(sink.port):
        assert tasks.alerts_retry_pending() == 1
        assert tasks.alerts_retry_pending() == 0  # sent: nothing left to retry
        tasks.alert_deliver(delivery.pk)  # a late duplicate task sends nothing
    delivery.refresh_from_db()
    assert delivery.status == AlertDelivery.Status.SENT
    assert len(sink.messages) == 1
    assert f"To: {EMAIL}" in sink.messages[0]


def test_a_bill_e_mail_survives_a_hung_mail_server(acme, black_hole, sink):
    from tests.billing.close_helpers import close, only, set_terms, travel

    set_terms(acme, minimum_monthly_commitment=Decimal("5000.00"))
    acme.email = "ap@acme.example.cn"
    acme.save()
    with travel(2026, 12, 1), smtp(black_hole.port):
        bill = only(close(acme))
        with pytest.raises(Exception, match="timed out"):
            tasks.bill_render_and_send.apply(args=[bill.pk], throw=True).get()
    bill.refresh_from_db()
    assert bill.emailed_at is None  # the claim was released: a retry may send
    assert len(black_hole.accepted) >= 1

    with travel(2026, 12, 1), smtp(sink.port):
        assert tasks.bill_render_and_send.apply(args=[bill.pk]).get() == "sent"
        assert tasks.bill_render_and_send.apply(args=[bill.pk]).get() == "already sent"
    bill.refresh_from_db()
    assert bill.emailed_at is not None
    assert len(sink.messages) == 1
    assert bill.number in sink.messages[0]
    assert Bill.objects.filter(pk=bill.pk, status=Bill.Status.ISSUED).exists()


@pytest.mark.parametrize(("retries", "countdown"), [(0, 30), (3, 240), (5, 960)])
def test_the_delivery_task_backs_off_exponentially(monkeypatch, acme, retries, countdown):
    asked = {}

    def retry(**kwargs):
        asked.update(kwargs)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.alert_deliver, "retry", retry)
    monkeypatch.setattr(
        "billing.budgets.alerts.alert_deliver", lambda **_: (_ for _ in ()).throw(TimeoutError("timed out"))
    )
    tasks.alert_deliver.push_request(retries=retries)
    try:
        with pytest.raises(RuntimeError):
            tasks.alert_deliver.run(1)
    finally:
        tasks.alert_deliver.pop_request()
    assert asked["countdown"] == countdown
    assert isinstance(asked["exc"], TimeoutError)
