"""Recording a bank transfer in the admin (收款 → 增加): the payment service books it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from billing.models import Bill, BillEvent, Payment

pytestmark = pytest.mark.django_db

ADD = reverse("admin:billing_payment_add")


def post_payment(client, bill, **changes):
    data = {
        "bill": bill.pk,
        "received_on": "2026-11-04",
        "reference": "CMB-20261104-001",
        "payer_name": bill.customer.name,
        "note": "",
        "amount_value": "288.59",
        **changes,
    }
    return client.post(ADD, data)


def test_it_records_a_payment_through_the_service(clerk_client, clerk, acme_bill):
    response = post_payment(clerk_client, acme_bill)

    assert response.status_code == 302, response.content.decode()[:2000]
    payment = Payment.objects.get()
    assert response["Location"] == reverse("admin:billing_payment_changelist")
    assert payment.customer == acme_bill.customer
    assert payment.amount.amount == Decimal("288.59")
    assert payment.recorded_by == clerk
    acme_bill.refresh_from_db()
    assert acme_bill.amount_paid.amount == Decimal("288.59")
    assert acme_bill.status == Bill.Status.PARTIALLY_PAID
    assert BillEvent.objects.filter(bill=acme_bill, kind="payment", actor=clerk).count() == 1
    entry = LogEntry.objects.get(object_id=str(payment.pk))
    assert entry.user == clerk
    assert "ACME" in entry.object_repr


def test_it_shows_a_refusal_beside_the_field_and_keeps_nothing(clerk_client, acme_bill):
    Payment.objects.create(
        customer=acme_bill.customer, bill=acme_bill, amount="1.00", received_on="2026-11-03", reference="DUP-1"
    )

    response = post_payment(clerk_client, acme_bill, reference="DUP-1", amount_value="5.00")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "DUP-1" in " ".join(errors["__all__"])
    assert Payment.objects.count() == 1
    acme_bill.refresh_from_db()
    assert acme_bill.amount_paid.amount == 0


def test_it_offers_only_bills_that_can_take_a_payment(clerk_client, acme_bill):
    Bill.objects.filter(pk=acme_bill.pk).update(status=Bill.Status.VOID)

    response = post_payment(clerk_client, acme_bill)

    assert response.status_code == 200
    assert "bill" in response.context["adminform"].form.errors
    assert not Payment.objects.exists()


def test_it_says_so_when_the_same_transfer_is_posted_again(clerk_client, acme_bill):
    post_payment(clerk_client, acme_bill)

    response = post_payment(clerk_client, acme_bill)

    assert response.status_code == 200
    assert "已登记" in " ".join(response.context["adminform"].form.errors["reference"])
    assert Payment.objects.count() == 1
    assert LogEntry.objects.count() == 1


def test_a_draft_is_refused_with_a_reason_not_a_generic_invalid_choice(clerk_client, acme_bill):
    acme_bill.status = Bill.Status.DRAFT
    acme_bill.save(update_fields=["status"])

    response = post_payment(clerk_client, acme_bill)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["bill"]
    assert errors == [f"{acme_bill} 是草稿：出账后才能登记收款（请先为其结账）。"]
    assert Payment.objects.count() == 0


def test_the_bill_picker_offers_open_bills_with_customer_and_balance(clerk_client, acme_bill):
    paid = Bill.objects.get(pk=acme_bill.pk)
    paid.pk, paid.number, paid.status = None, "BILL-ACME-202609", Bill.Status.PAID
    paid.period = paid.period.replace(month=9)
    paid.save()
    url = reverse("admin:autocomplete")
    answer = clerk_client.get(
        url, {"app_label": "billing", "model_name": "payment", "field_name": "bill", "term": "ACME"}
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["id"] for r in results] == [str(acme_bill.pk)]
    assert results[0]["text"] == f"{acme_bill.number} · ACME {acme_bill.customer.name} · 2026-10 · 余额 ¥12,345.67"
