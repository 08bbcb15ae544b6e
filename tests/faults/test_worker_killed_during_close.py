"""A Celery worker process killed (SIGKILL) in the middle of a month close (issue 14, faults
survived): running the close again — the command twin of the beat task — finishes it with
every customer's bill exactly once, each issued once, with the right amounts.

The worker is a real `celery worker` process on a real broker (Redis), reading the test
database; the test process enqueues the beat's fan-out task and kills the worker as soon as
the first bills appear.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

import procurement
from billing.models import Bill, BillEvent
from tests.billing.close_helpers import (
    customer_with_contract,
    ingest,
    key_for,
    price,
    rate,
    record,
    shanghai,
    truncate_usage_records,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
OCT = date(2026, 10, 1)
CUSTOMERS = 12


def broker_url() -> str:
    """The configured Redis (or the local one); this run's keys get a prefix of their own, so
    another test run on the same Redis neither takes our messages nor gives us theirs."""
    configured = settings.CELERY_BROKER_URL
    return configured if configured.startswith(("redis://", "rediss://")) else "redis://127.0.0.1:6379/15"


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def october(transactional_db):
    truncate_usage_records()
    price()
    rate(OCT, "7.1000")
    customers = []
    for n in range(CUSTOMERS):
        customer = customer_with_contract(f"K{n:02d}")
        ingest(
            record(key_for(customer), input=1_000_000 + n, output=10_000, at=shanghai(2026, 10, 5, 9)),
            now=shanghai(2026, 11, 2),
        )
        customers.append(customer)
    yield customers
    truncate_usage_records()


@pytest.fixture
def broker():
    url, prefix = broker_url(), f"test-kill-{uuid.uuid4().hex}:"
    yield url, prefix
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def start_worker(broker: str, prefix: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PROCUREMENT_ENV"}
    env.update(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=broker,
        CELERY_KEY_PREFIX=prefix,
        PROCUREMENT_ENV="run",
        DJANGO_DEBUG="0",
        MEDIA_ROOT=str(Path(settings.MEDIA_ROOT)),
        EMAIL_URL="memorymail://",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "procurement",
            "worker",
            "--pool=solo",
            "-Q",
            "close,default",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bills_so_far() -> int:
    connection.close()
    return Bill.objects.filter(period=OCT).count()


def test_the_close_finishes_every_bill_once_after_the_worker_is_killed(october, broker, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    app = procurement.celery_app
    url, prefix = broker
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options")}
    app.conf.update(task_always_eager=False, broker_url=url, broker_transport_options={"global_keyprefix": prefix})
    app._pool = None
    app.amqp._producer_pool = None
    worker = start_worker(url, prefix)
    try:
        app.send_task("billing.tasks.month_close", args=["2026-10"], queue="close")
        deadline = time.monotonic() + 120
        while bills_so_far() == 0 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None

    before = bills_so_far()
    assert 0 < before < CUSTOMERS, f"the worker was not killed mid-close ({before} of {CUSTOMERS} bills)"

    # The beat task's twin, run again (in-process; tasks eager): closes what is left.
    call_command("close_month", "2026-10", stdout=StringIO())
    call_command("close_month", "2026-10", stdout=StringIO())  # and again: nothing new

    bills = list(Bill.objects.filter(period=OCT).select_related("customer"))
    assert sorted(b.customer.code for b in bills) == [f"K{n:02d}" for n in range(CUSTOMERS)]
    assert sorted(b.number for b in bills) == [f"BILL-K{n:02d}-202610" for n in range(CUSTOMERS)]
    assert all(b.status == Bill.Status.ISSUED for b in bills)
    issued_events = BillEvent.objects.filter(bill__in=bills, kind=BillEvent.Kind.ISSUED).count()
    assert issued_events == CUSTOMERS
    for bill in bills:
        n = int(bill.customer.code[1:])
        cost = (Decimal(1_000_000 + n) * Decimal("2.5") + Decimal(10_000) * Decimal(10)) / Decimal(1_000_000)
        amount = (cost * Decimal("7.1000")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert bill.subtotal.amount == amount, bill.number
        assert sum(line.amount.amount for line in bill.lines.all()) == amount
    print(f"faults: worker killed after {before} of {CUSTOMERS} bills; the re-run issued {CUSTOMERS - before}")
