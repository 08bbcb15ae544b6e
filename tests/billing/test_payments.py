"""Payments, customer credit and overdue bills.

ACME's contract here carries a minimum commitment of 5,000.00 and no usage, so each month's
bill is 5,000.00 + VAT 300.00 = 5,300.00, issued on the 1st and due 30 days later.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from billing import tasks
from billing.bills.dunning import dunning_run
from billing.bills.lifecycle import bills_mark_overdue, payment_record
from billing.models import Bill, BillEvent, CreditEntry, Payment
from common.errors import Conflict
from tests.billing.close_helpers import DEC, close, only, set_terms, travel


@pytest.fixture
def november_bill(acme):
    set_terms(acme, minimum_monthly_commitment=Decimal("5000.00"))
    with travel(2026, 12, 1):
        bill = only(close(acme))
    assert (bill.total.amount, bill.due_on) == (Decimal("5300.00"), date(2026, 12, 31))
    return bill


def pay(client, bill: Bill, amount: str, reference: str, received_on: str = "2026-12-10", **extra):
    return client.post(
        f"/api/v1/bills/{bill.number}/payments/",
        {"amount": amount, "received_on": received_on, "reference": reference, **extra},
        format="json",
    )


def credit_balance(customer) -> Decimal:
    return sum((e.amount.amount for e in CreditEntry.objects.filter(customer=customer)), Decimal("0"))


def test_it_moves_a_bill_from_issued_to_partially_paid_to_paid(november_bill, finance_client, finance_user):
    with travel(2026, 12, 10):
        response = pay(finance_client, november_bill, "1300.00", "CMB-1")
    assert response.status_code == 201
    assert response.json()["amount"] == "1300.00"
    assert response.json()["applied"] == "1300.00"
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.PARTIALLY_PAID
    assert november_bill.amount_paid.amount == Decimal("1300.00")
    assert november_bill.balance.amount == Decimal("4000.00")

    with travel(2026, 12, 20):
        response = pay(finance_client, november_bill, "4000.00", "CMB-2", received_on="2026-12-20")
    assert response.status_code == 201
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.PAID
    assert november_bill.balance.amount == Decimal("0.00")
    assert credit_balance(november_bill.customer) == Decimal("0")

    events = list(november_bill.events.filter(kind="payment").order_by("pk"))
    assert [(e.data["status_from"], e.data["status_to"]) for e in events] == [
        ("issued", "partially_paid"),
        ("partially_paid", "paid"),
    ]
    assert {e.actor for e in events} == {finance_user}
    assert Payment.objects.get(reference="CMB-2").recorded_by == finance_user


def test_it_keeps_an_overpayment_as_credit_for_the_next_bill(november_bill, finance_client):
    with travel(2026, 12, 10):
        response = pay(finance_client, november_bill, "5600.00", "CMB-OVER")
    assert response.status_code == 201
    assert response.json()["applied"] == "5300.00"
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.PAID
    assert november_bill.amount_paid.amount == Decimal("5300.00")
    assert credit_balance(november_bill.customer) == Decimal("300.00")

    with travel(2027, 1, 1):
        december = only(close(november_bill.customer, DEC))
    assert december.total.amount == Decimal("5300.00")
    used = Payment.objects.get(bill=december)
    assert (used.method, used.amount.amount, used.applied.amount) == (
        Payment.Method.CREDIT,
        Decimal("300.00"),
        Decimal("300.00"),
    )
    assert used.received_on == date(2027, 1, 1)
    assert december.status == Bill.Status.PARTIALLY_PAID
    assert december.amount_paid.amount == Decimal("300.00")
    assert december.balance.amount == Decimal("5000.00")
    assert credit_balance(november_bill.customer) == Decimal("0.00")
    assert december.events.filter(kind="credit_applied").get().data == {"amount": "300.00"}


def test_it_pays_the_next_bill_in_full_from_a_larger_credit(november_bill):
    with travel(2026, 12, 10):
        payment_record(bill=november_bill, amount=Decimal("12000.00"), received_on=date(2026, 12, 10))
    assert credit_balance(november_bill.customer) == Decimal("6700.00")

    with travel(2027, 1, 1):
        december = only(close(november_bill.customer, DEC))
    assert december.status == Bill.Status.PAID
    assert december.balance.amount == Decimal("0.00")
    assert credit_balance(november_bill.customer) == Decimal("1400.00")


def test_it_counts_the_same_bank_reference_once(november_bill, finance_client):
    with travel(2026, 12, 10):
        first = pay(finance_client, november_bill, "1000.00", "CMB-SAME")
        second = pay(finance_client, november_bill, "1000.00", "CMB-SAME")
        different = pay(finance_client, november_bill, "999.00", "CMB-SAME")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert different.status_code == 409
    november_bill.refresh_from_db()
    assert november_bill.amount_paid.amount == Decimal("1000.00")
    assert Payment.objects.filter(bill=november_bill).count() == 1
    assert november_bill.events.filter(kind="payment").count() == 1


def test_it_flags_a_payer_other_than_the_customer(november_bill, finance_client):
    with travel(2026, 12, 10):
        other = pay(finance_client, november_bill, "100.00", "CMB-P1", payer_name="某某贸易有限公司")
        same = pay(finance_client, november_bill, "100.00", "CMB-P2", payer_name=" 上海阿克米 信息技术有限公司 ")
        unnamed = pay(finance_client, november_bill, "100.00", "CMB-P3")

    assert other.json()["payer_mismatch"] is True
    assert same.json()["payer_mismatch"] is False
    assert unnamed.json()["payer_mismatch"] is False
    assert Payment.objects.get(reference="CMB-P1").payer_mismatch is True
    assert BillEvent.objects.get(bill=november_bill, data__reference="CMB-P1").data["payer_mismatch"] is True


def test_it_refuses_payments_that_cannot_apply(november_bill, acme):
    with pytest.raises(ValidationError):
        payment_record(bill=november_bill, amount=Decimal("0"), received_on=date(2026, 12, 10))
    with travel(2026, 12, 10):
        payment_record(bill=november_bill, amount=Decimal("5300.00"), received_on=date(2026, 12, 10))
        with pytest.raises(Conflict):  # already paid
            payment_record(bill=november_bill, amount=Decimal("1.00"), received_on=date(2026, 12, 10))


def test_it_marks_bills_overdue_after_the_due_date_and_the_dunning_notifies_once(
    november_bill, django_capture_on_commit_callbacks
):
    with travel(2026, 12, 31, 23), django_capture_on_commit_callbacks(execute=True):
        assert bills_mark_overdue(today=date(2026, 12, 31)) == 0  # due today is not overdue yet
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.ISSUED
    assert mail.outbox == []

    with travel(2027, 1, 1, 2), django_capture_on_commit_callbacks(execute=True):
        assert tasks.bills_mark_overdue.delay().get() == 1
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.OVERDUE
    assert mail.outbox == []  # the e-mails are the dunning's: one notice per stage
    with travel(2027, 1, 1, 10):
        dunning_run(today=date(2027, 1, 1))
    november_bill.refresh_from_db()
    assert november_bill.reminded_at is not None
    assert len(mail.outbox) == 1
    reminder = mail.outbox[0]
    assert reminder.to == ["ap@acme.example.cn"]
    assert "BILL-ACME-202611" in reminder.subject
    assert "¥5,300.00" in reminder.body
    assert list(november_bill.events.values_list("kind", flat=True)) == ["issued", "overdue", "notice_sent"]

    with travel(2027, 1, 2, 2), django_capture_on_commit_callbacks(execute=True):
        assert bills_mark_overdue(today=date(2027, 1, 2)) == 0
        dunning_run(today=date(2027, 1, 2))
    assert len(mail.outbox) == 1
    assert november_bill.events.count() == 3


def test_it_keeps_an_overdue_bill_overdue_until_it_is_paid(november_bill, django_capture_on_commit_callbacks):
    with travel(2026, 12, 15):
        payment_record(bill=november_bill, amount=Decimal("300.00"), received_on=date(2026, 12, 15))
    with travel(2027, 1, 5), django_capture_on_commit_callbacks(execute=True):
        assert bills_mark_overdue(today=date(2027, 1, 5)) == 1
        dunning_run(today=date(2027, 1, 5))
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.OVERDUE
    # The overdue notice asks for the balance.
    assert "¥5,000.00" in mail.outbox[0].body

    with travel(2027, 1, 6):
        payment_record(bill=november_bill, amount=Decimal("1000.00"), received_on=date(2027, 1, 6))
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.OVERDUE
    assert november_bill.balance.amount == Decimal("4000.00")

    with travel(2027, 1, 7):
        payment_record(bill=november_bill, amount=Decimal("4000.00"), received_on=date(2027, 1, 7))
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.PAID
    with travel(2027, 1, 8), django_capture_on_commit_callbacks(execute=True):
        assert bills_mark_overdue(today=date(2027, 1, 8)) == 0
        dunning_run(today=date(2027, 1, 8))
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.PAID
    assert len(mail.outbox) == 1


def test_it_sends_no_reminder_for_a_bill_paid_before_the_due_date(november_bill, django_capture_on_commit_callbacks):
    with travel(2026, 12, 30):
        payment_record(bill=november_bill, amount=Decimal("5300.00"), received_on=date(2026, 12, 30))
    with travel(2027, 2, 1), django_capture_on_commit_callbacks(execute=True):
        assert bills_mark_overdue(today=date(2027, 2, 1)) == 0
        assert dunning_run(today=date(2027, 2, 1)).created == []
    assert mail.outbox == []
    assert Bill.objects.get(pk=november_bill.pk).status == Bill.Status.PAID


def test_it_records_a_late_payment_on_an_unmarked_bill_as_overdue(november_bill):
    # The beat has not run yet: a partial payment after the due date still lands in overdue.
    with travel(2027, 1, 3):
        payment_record(bill=november_bill, amount=Decimal("100.00"), received_on=date(2027, 1, 3))
    november_bill.refresh_from_db()
    assert november_bill.status == Bill.Status.OVERDUE
    assert november_bill.balance.amount == Decimal("5200.00")
