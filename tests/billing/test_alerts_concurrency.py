"""Exactly once under concurrency, on real PostgreSQL connections: threads ingesting batches for
one customer and evaluating its budget at the same time leave each threshold alert once and
each delivery once; the coalescing row lets one evaluation through per burst; and the key's
allowance ends up reflecting the latest spend."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection

from billing import tasks
from billing.budgets import budgets
from billing.budgets.budgets import budget_create, budgets_evaluate_customer
from billing.metering.ingest import usage_ingest_batch
from billing.models import Alert, AlertDelivery, BudgetEvaluationRequest, KeyAllowance
from tests.billing.alerts_helpers import HttpSink, meter_price, spend
from tests.billing.helpers import shanghai

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
BATCHES = 5
TODAY = date(2026, 11, 20)
EMAIL = "ops@acme.example.cn"


@pytest.fixture(autouse=True)
def _noon_on_20_november():
    with time_machine.travel(shanghai(2026, 11, 20, 12), tick=False):
        yield


@pytest.fixture
def sink():
    server = HttpSink()
    yield server
    server.close()


@pytest.fixture
def budget(clean_usage, acme, acme_key, sink):
    meter_price()
    return budget_create(
        customer=acme,
        scope="customer",
        target=None,
        monthly_amount=Decimal("1000"),
        hard_limit=True,
        channels=[EMAIL, sink.url],
        staff=True,  # our staff may point a channel at a host of ours (the local sink)
    )


def together(work, count: int) -> None:
    """Run ``work(i)`` in ``count`` threads released at once; each closes its connection."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def test_it_fires_each_threshold_and_delivers_it_once_under_concurrent_ingestion(budget, acme, acme_key, sink):
    def work(i: int) -> None:
        for j in range(BATCHES):
            result = usage_ingest_batch(records=[spend(acme_key.key_id, "50", TODAY, request_id=f"t{i}-b{j}")])
            assert result.accepted == 1
            budgets_evaluate_customer(customer_id=acme.pk)  # and the beat, at the same time

    together(work, THREADS)

    assert sorted(Alert.objects.filter(kind="threshold").values_list("threshold", flat=True)) == [50, 80, 100]
    assert not Alert.objects.exclude(kind="threshold").exists()
    per_channel = Counter(AlertDelivery.objects.values_list("alert__threshold", "channel"))
    assert per_channel == {(t, c): 1 for t in (50, 80, 100) for c in (EMAIL, sink.url)}
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}
    # The message is in the default language (Chinese: "阈值 50%"; English: "threshold 50%").
    thresholds = [int(re.search(r"(?:阈值|threshold) ?(\d+)%", m.body).group(1)) for m in mail.outbox]
    assert sorted(thresholds) == [50, 80, 100]
    assert len(sink.received) == 3
    # 30 batches × 50 = 1,500: the key is blocked whichever evaluation wrote last.
    allowance = KeyAllowance.objects.get(api_key=acme_key)
    assert (allowance.blocked, allowance.month_to_date) == (True, Decimal("1500.00"))


def test_a_burst_of_concurrent_batches_enqueues_one_evaluation(budget, acme, acme_key):
    with mock.patch.object(tasks.budgets_evaluate, "apply_async") as enqueue:
        together(
            lambda i: usage_ingest_batch(records=[spend(acme_key.key_id, "1", TODAY, request_id=f"burst-{i}")]),
            THREADS,
        )
    assert enqueue.call_args_list == [mock.call((acme.pk,), countdown=1)]
    assert list(BudgetEvaluationRequest.objects.values_list("customer_id", flat=True)) == [acme.pk]


def test_a_slow_evaluation_never_overwrites_a_newer_one(budget, acme, acme_key):
    """Evaluation A reads the spend (below the limit) and is slow to write the allowance; more
    usage arrives and evaluation B sees the limit reached. The allowance must end blocked."""
    usage_ingest_batch(records=[spend(acme_key.key_id, "900", TODAY)])
    a_has_read, release_a, b_done = threading.Event(), threading.Event(), threading.Event()
    original = budgets.budget_evaluate

    def slow_for_a(budget, **kwargs):
        result = original(budget, **kwargs)
        if threading.current_thread().name == "evaluation-a":
            a_has_read.set()
            release_a.wait(timeout=30)
        return result

    errors: list[BaseException] = []

    def evaluate(done: threading.Event | None = None) -> None:
        try:
            budgets_evaluate_customer(customer_id=acme.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()
            if done is not None:
                done.set()

    with mock.patch.object(budgets, "budget_evaluate", slow_for_a):
        a = threading.Thread(target=evaluate, name="evaluation-a")
        a.start()
        assert a_has_read.wait(timeout=30)
        with mock.patch.object(tasks.budgets_evaluate, "apply_async"):  # B is started by hand below
            usage_ingest_batch(records=[spend(acme_key.key_id, "100", TODAY)])
        b = threading.Thread(target=evaluate, args=(b_done,), name="evaluation-b")
        b.start()
        b_done.wait(timeout=2)  # without serialisation B finishes here, before A writes
        release_a.set()
        a.join(timeout=30)
        b.join(timeout=30)
    assert errors == []
    allowance = KeyAllowance.objects.get(api_key=acme_key)
    assert (allowance.blocked, allowance.month_to_date) == (True, Decimal("1000.00"))
