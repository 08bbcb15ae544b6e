"""End to end with a REAL Celery worker and Redis: the beat's month close fans out one task per
customer, each issues its bill, and the PDF task renders and e-mails it.

The broker is CELERY_BROKER_URL when it is Redis (CI), else redis://127.0.0.1:6379/14. The
clock is not pinned (the worker's timers need a moving one): the period closed is 2026-10,
which has ended whenever this runs.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.utils import timezone

import procurement
from billing import tasks
from billing.models import Bill
from billing.periods import business_day
from tests.billing.close_helpers import (
    ingest,
    key_for,
    price,
    rate,
    record,
    set_terms,
    shanghai,
    truncate_usage_records,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OCT = date(2026, 10, 1)
QUEUES = ["default", "ingest", "close", "pdf", "notify"]
FALLBACK_BROKER = "redis://127.0.0.1:6379/14"


def redis_broker_url() -> str:
    configured = django_settings.CELERY_BROKER_URL
    return configured if configured.startswith(("redis://", "rediss://")) else FALLBACK_BROKER


def _close_db_connection(**_kwargs) -> None:
    """Runs in the worker thread after each task: CONN_MAX_AGE would keep its connection open
    past the test (and block the flush and the test database's removal)."""
    connection.close()


@pytest.fixture
def real_worker(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    app = procurement.celery_app
    conf = app.conf
    saved = {key: conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options")}
    broker = redis_broker_url()
    # Every key of this run under its own prefix: another test session on the same Redis
    # database (a colleague's, CI's) neither takes our messages nor gives us theirs.
    prefix = f"test-close-{uuid.uuid4().hex}:"

    def reset_connections() -> None:
        app._pool = None  # the pool and producers were made for the previous broker
        app.amqp._producer_pool = None

    conf.update(task_always_eager=False, broker_url=broker, broker_transport_options={"global_keyprefix": prefix})
    reset_connections()
    task_postrun.connect(_close_db_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=QUEUES, shutdown_timeout=30) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_db_connection)
        conf.update(saved)
        reset_connections()
        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


@pytest.fixture
def october_usage(transactional_db):
    """ACME (8 %): 6.0154325 USD × 0.92 × 7.1456 = 39.5451… → 39.55, VAT 2.37 (2.373), total 41.92.
    OTHER: 2.5 USD × 7.1456 = 17.864 → 17.86, VAT 1.07 (1.0716), total 18.93."""
    truncate_usage_records()
    from customers.models import Customer

    acme = Customer.objects.get(code="ACME")
    other = Customer.objects.get(code="OTHER")
    set_terms(acme, discount_percent=Decimal("8"))
    price()
    rate(OCT, "7.1456")
    acme_key = key_for(acme)
    ingest(
        record(acme_key, input=1_000_000, cached=200_000, output=300_000, at=shanghai(2026, 10, 5, 9)),
        record(acme_key, input=123_457, output=45_679, at=shanghai(2026, 10, 31, 23, 59)),
        record(key_for(other, "main"), input=1_000_000, at=shanghai(2026, 10, 20, 14)),
        now=shanghai(2026, 11, 2),
    )
    yield
    truncate_usage_records()


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    return condition()


def test_it_closes_a_month_end_to_end_on_a_real_worker(acme, other_customer, october_usage, real_worker):
    assert not procurement.celery_app.conf.task_always_eager
    tasks.month_close.delay("2026-10")

    def done():
        bills = list(Bill.objects.filter(period=OCT).order_by("number"))
        finished = len(bills) == 2 and all(b.pdf_rendered_at and b.emailed_at for b in bills) and len(mail.outbox) == 2
        return bills if finished else None

    bills = wait_for(done)
    assert bills, (list(Bill.objects.values_list("number", "status", "pdf_rendered_at", "emailed_at")), mail.outbox)

    assert [(b.number, b.status, b.subtotal.amount, b.vat.amount, b.total.amount) for b in bills] == [
        ("BILL-ACME-202610", Bill.Status.ISSUED, Decimal("39.55"), Decimal("2.37"), Decimal("41.92")),
        ("BILL-OTHER-202610", Bill.Status.ISSUED, Decimal("17.86"), Decimal("1.07"), Decimal("18.93")),
    ]
    today = business_day(timezone.now())
    for bill in bills:
        assert bill.issued_on in (today, today - timedelta(days=1))  # a run across midnight
        assert bill.due_on == bill.issued_on + timedelta(days=30)
        with bill.pdf.open("rb") as handle:
            assert handle.read(5) == b"%PDF-"
    sent = sorted((m.to[0], m.attachments[0][0]) for m in mail.outbox)
    assert sent == [
        ("ap@acme.example.cn", "BILL-ACME-202610.pdf"),
        ("ap@other.example.cn", "BILL-OTHER-202610.pdf"),
    ]
    assert all(m.attachments[0][1].startswith(b"%PDF") for m in mail.outbox)
