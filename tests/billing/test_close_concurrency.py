"""Month close under concurrency, on real transactions: two closes of the same customer and
period at once, and a close racing the ingestion of late usage for that customer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from billing.bills.close import month_close_customer
from billing.models import Bill, BillEvent, BillLine, ClosedPeriod
from customers.models import Customer
from tests.billing.close_helpers import (
    DEC,
    NOV,
    claude_price,
    close,
    customer_with_contract,
    ingest,
    key_for,
    only,
    price,
    rate,
    record,
    shanghai,
    travel,
    truncate_usage_records,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _isolated(transactional_db, settings, tmp_path):
    """Records live in an unmanaged partitioned table the flush leaves alone; PDFs made by the
    on-commit tasks go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    truncate_usage_records()
    yield
    truncate_usage_records()


def run_together(*targets: Callable[[], object]) -> list[object]:
    """Start each target in its own thread at the same moment; re-raise the first error."""
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)
    errors: list[BaseException] = []

    def run(index: int, target: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def summary(outcomes) -> list[tuple]:
    return sorted((o.bill.pk, o.bill.number, o.bill.status, o.bill.total.amount) for o in outcomes)


@pytest.fixture
def busy_customer(transactional_db):
    """ZETA (8 % discount, 7.1456) with two projects and a 100.00 commitment."""
    customer = customer_with_contract(
        "ZETA", discount_percent=Decimal("8"), minimum_monthly_commitment=Decimal("100.00")
    )
    price()
    claude_price()
    rate(NOV, "7.1456")
    rate(DEC, "7.2")
    chatbot, search = key_for(customer, "chatbot"), key_for(customer, "search")
    ingest(
        # 6.0154325 USD → 39.55
        record(chatbot, input=1_000_000, cached=200_000, output=300_000),
        record(chatbot, input=123_457, output=45_679),
        # 6.15 USD → 40.43
        record(search, model="claude-sonnet-4", input=2_000_000, cached=500_000, output=100_000),
        now=shanghai(2026, 11, 30),
    )
    return customer


@pytest.mark.parametrize("per_project", [False, True])
def test_it_issues_each_bill_once_when_two_closes_race(busy_customer, per_project):
    if per_project:
        busy_customer.contracts.update(bill_per_project=True)

    def close_it():
        return month_close_customer(customer=Customer.objects.get(code="ZETA"), period=NOV)

    with travel(2026, 12, 1):
        first, second = run_together(close_it, close_it)

    actions = sorted([[o.action for o in first], [o.action for o in second]])
    expected_bills = 3 if per_project else 1
    assert actions == [["issued"] * expected_bills, ["unchanged"] * expected_bills]
    assert [(pk, n, total) for pk, n, _s, total in summary(first)] == [
        (pk, n, total) for pk, n, _s, total in summary(second)
    ]
    bills = Bill.objects.filter(customer__code="ZETA")
    assert bills.count() == expected_bills
    assert BillEvent.objects.filter(kind="issued").count() == expected_bills
    if per_project:
        # chatbot 39.55 + VAT 2.37 (2.373); search 40.43 + 2.43; top-up 20.02 + 1.20 (1.2012)
        assert dict(bills.values_list("number", "total")) == {
            "BILL-ZETA-202611-CHATBOT": Decimal("41.92"),
            "BILL-ZETA-202611-SEARCH": Decimal("42.86"),
            "BILL-ZETA-202611": Decimal("21.22"),
        }
    else:
        # 39.55 + 40.43 + top-up 20.02 = 100.00; VAT 6.00
        assert dict(bills.values_list("number", "total")) == {"BILL-ZETA-202611": Decimal("106.00")}
    assert ClosedPeriod.objects.filter(customer__code="ZETA", period=NOV).count() == 1


def bill_period_counts() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bill_period, count(*) FROM billing_usagerecord WHERE period = %s AND model = 'gpt-4o' "
            "AND request_id LIKE 'late-%%' GROUP BY bill_period",
            [NOV],
        )
        return dict(cursor.fetchall())


def test_it_bills_every_late_record_exactly_once_while_ingestion_races_the_close(busy_customer):
    """Late records of 30 November arrive in batches before, during and after the close:
    each lands on the November bill or, once November is closed, as an adjustment on December's."""
    key = key_for(busy_customer, "chatbot")
    closed = threading.Event()
    started = threading.Event()
    batches: list[int] = []

    def ingest_late():
        n = 0

        def batch():
            nonlocal n
            records = [
                record(key, input=1_000, at=shanghai(2026, 11, 30, 23, 59), request_id=f"late-{n:03d}-{i}")
                for i in range(5)
            ]
            ingest(*records, now=shanghai(2026, 12, 1, 3))
            batches.append(n)
            n += 1

        for _ in range(5):  # surely before the close
            batch()
        started.set()
        while not closed.is_set() and n < 200:  # during
            batch()
        for _ in range(3):  # surely after
            batch()
        return n

    def close_when_started():
        assert started.wait(timeout=30)
        try:
            return month_close_customer(customer=Customer.objects.get(code="ZETA"), period=NOV)
        finally:
            closed.set()

    with travel(2026, 12, 1):
        total_batches, outcomes = run_together(ingest_late, close_when_started)

    records = total_batches * 5
    counts = bill_period_counts()
    assert sum(counts.values()) == records
    assert set(counts) <= {NOV, DEC}
    assert counts[NOV] >= 25  # the first five batches
    assert counts[DEC] >= 15  # the last three

    november = only(outcomes)
    line = november.lines.get(kind=BillLine.Kind.USAGE, model="gpt-4o")
    assert line.requests == 2 + counts[NOV]

    with travel(2027, 1, 1):
        december = only(close(Customer.objects.get(code="ZETA"), DEC))
    adjustment = december.lines.get(kind=BillLine.Kind.ADJUSTMENT)
    assert (adjustment.period, adjustment.model, adjustment.requests) == (NOV, "gpt-4o", counts[DEC])
    assert line.requests + adjustment.requests == 2 + records
    # Each late record costs 1,000 × 2.5 / 1M = 0.0025 USD; lines at November's 8 % and 7.1456.
    assert adjustment.amount.amount == money(counts[DEC] * Decimal("0.0025") * Decimal("0.92") * Decimal("7.1456"))
    november_cost = Decimal("6.0154325") + counts[NOV] * Decimal("0.0025")
    assert line.amount.amount == money(november_cost * Decimal("0.92") * Decimal("7.1456"))
