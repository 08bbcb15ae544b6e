"""Invoice numbers stay gapless and unique when several connections issue at once: the
counter row is locked inside each issuing transaction (money rule 11, docs/money-rules.md)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing import tasks as billing_tasks
from billing.models import SellerProfile
from invoices import services
from invoices.models import Invoice, InvoiceCounter
from tests.factories import ContractFactory, CustomerFactory
from tests.invoices.helpers import commitment_bill, sequence_of

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def test_it_numbers_invoices_issued_concurrently_without_gaps_or_duplicates(seller, monkeypatch):
    # Three invoices per bill (amount limit), so the threads contend for the counter again and again.
    SellerProfile.objects.filter(pk=seller.pk).update(invoice_amount_limit=Decimal("400.00"))
    # No PDFs or e-mails here: on_commit callbacks run in a transactional test.
    monkeypatch.setattr(services, "_after_commit_render_and_send", lambda ids: None)
    monkeypatch.setattr(billing_tasks.bill_render_and_send, "apply_async", lambda *args, **options: None)
    bills = []
    for i in range(THREADS):
        customer = CustomerFactory(code=f"PAR{i}")
        ContractFactory(customer=customer, number=f"HT-PAR-{i}")
        bills.append(commitment_bill(customer, Decimal("1000.00") + i))
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def issue(bill) -> None:
        try:
            barrier.wait(timeout=30)
            services.invoice_issue(bill=bill)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(bill,)) for bill in bills]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    numbers = list(Invoice.objects.values_list("number", flat=True))
    assert len(numbers) == 3 * THREADS
    assert len(set(numbers)) == len(numbers)
    assert sorted(sequence_of(n) for n in numbers) == list(range(1, 3 * THREADS + 1))
    assert {n[:5] for n in numbers} == {"26311"}
    assert InvoiceCounter.objects.get(year=2026).last_sequence == 3 * THREADS
    for bill in bills:
        invoices = Invoice.objects.filter(bill=bill)
        assert sum(i.total.amount for i in invoices) == bill.total.amount
