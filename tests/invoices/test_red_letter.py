"""Red-letter reversal: POST /api/v1/invoices/{number}/red-letter/ (CONTRACT.md), the blue
invoice never edited, the bill invoiceable again for what was reversed, and voiding a bill
reversing its invoices first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.bills.lifecycle import bill_reissue, bill_void
from billing.models import Bill
from invoices.models import Invoice, RedLetterForm, RedReason
from invoices.services import bill_invoiceable, invoice_issue
from tests.invoices.helpers import CONTRACT_KEYS, EXTRA_KEYS, sequence_of

pytestmark = pytest.mark.django_db


def red_url(number: str) -> str:
    return f"/api/v1/invoices/{number}/red-letter/"


def frozen(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    lines = [(ln.amount.amount, ln.tax.amount, ln.quantity, ln.unit_price) for ln in invoice.lines.all()]
    return (invoice.number, invoice.amount, invoice.vat, invoice.total, invoice.issued_on, invoice.buyer, lines)


@pytest.fixture
def blue(acme_bill) -> Invoice:
    (invoice,) = invoice_issue(bill=acme_bill)
    return invoice


def test_it_reverses_an_invoice_in_full_with_a_negative_red_invoice(finance_client, blue):
    before = frozen(blue)

    response = finance_client.post(red_url(blue.number), {"reason": 2, "note": "税号填错"}, format="json")

    assert response.status_code == 201, response.json()
    red = response.json()
    assert set(red) == CONTRACT_KEYS | EXTRA_KEYS
    assert {key: red[key] for key in CONTRACT_KEYS} == {
        "number": "26311000000000000002",
        "bill": "BILL-ACME-202610",
        "color": "red",
        "invoice_type": "special",
        "status": "issued",
        "issued_on": "2026-11-05",
        "amount": "-11646.86",
        "vat": "-698.81",
        "total": "-12345.67",
        "currency": "CNY",
        "buyer_name": blue.buyer["name"],
        "buyer_tax_id": blue.buyer["tax_id"],
        "original": blue.number,
        "red_reason": 2,
    }
    assert red["remark"] == ""  # 数电票: no remark on a red invoice
    assert frozen(blue) == before
    assert blue.status == Invoice.Status.REVERSED
    form = RedLetterForm.objects.get(blue=blue)
    assert (form.status, form.reason, form.red.number) == (RedLetterForm.Status.RED_ISSUED, 2, red["number"])
    assert (form.amount.amount, form.vat.amount) == (Decimal("11646.86"), Decimal("698.81"))


def test_it_reverses_part_of_an_invoice_for_a_discount(finance_client, blue):
    before = frozen(blue)

    response = finance_client.post(red_url(blue.number), {"reason": 4, "amount": "1234.57"}, format="json")

    assert response.status_code == 201, response.json()
    red = response.json()
    # VAT = round_half_up(1234.57 × 0.06, 2) = round_half_up(74.0742) = 74.07
    assert (red["amount"], red["vat"], red["total"]) == ("-1234.57", "-74.07", "-1308.64")
    assert (red["original"], red["red_reason"], red["status"]) == (blue.number, 4, "issued")
    assert frozen(blue) == before
    assert blue.status == Invoice.Status.PARTIALLY_REVERSED
    assert bill_invoiceable(blue.bill).amount == Decimal("1234.57")
    assert bill_invoiceable(blue.bill).vat == Decimal("74.07")


def test_it_rounds_the_vat_of_a_partial_reversal_half_up(finance_client, blue):
    # 0.75 × 0.06 = 0.045 → 0.05 (banker's rounding would give 0.04); 0.25 × 0.06 = 0.015 → 0.02
    first = finance_client.post(red_url(blue.number), {"reason": 1, "amount": "0.75"}, format="json")
    second = finance_client.post(red_url(blue.number), {"reason": 1, "amount": "0.25"}, format="json")

    assert (first.json()["vat"], second.json()["vat"]) == ("-0.05", "-0.02")


def test_it_refuses_a_partial_reversal_for_an_invoice_issued_in_error(finance_client, blue):
    response = finance_client.post(red_url(blue.number), {"reason": 2, "amount": "100.00"}, format="json")

    assert response.status_code == 400
    assert "amount" in response.json()["errors"]
    assert not Invoice.objects.filter(color=Invoice.Color.RED).exists()


def test_it_refuses_to_reverse_more_than_is_left(finance_client, blue):
    response = finance_client.post(red_url(blue.number), {"reason": 4, "amount": "11646.87"}, format="json")

    assert response.status_code == 409
    assert not Invoice.objects.filter(color=Invoice.Color.RED).exists()


def test_it_refuses_to_reverse_an_invoice_already_fully_reversed(finance_client, blue):
    assert finance_client.post(red_url(blue.number), {"reason": 2}, format="json").status_code == 201

    response = finance_client.post(red_url(blue.number), {"reason": 2}, format="json")

    assert response.status_code == 409
    assert Invoice.objects.filter(color=Invoice.Color.RED).count() == 1


def test_it_answers_404_for_an_unknown_invoice(finance_client, blue):
    response = finance_client.post(red_url("26311000000000009999"), {"reason": 2}, format="json")

    assert response.status_code == 404


def test_it_refuses_to_reverse_a_red_invoice(finance_client, blue):
    red = finance_client.post(red_url(blue.number), {"reason": 4, "amount": "100.00"}, format="json").json()

    response = finance_client.post(red_url(red["number"]), {"reason": 2}, format="json")

    assert response.status_code == 409


def test_it_makes_the_bill_invoiceable_again_for_the_reversed_amount(finance_client, blue):
    finance_client.post(red_url(blue.number), {"reason": 4, "amount": "1000.00"}, format="json")

    response = finance_client.post(f"/api/v1/bills/{blue.bill.number}/invoices/", {}, format="json")

    assert response.status_code == 201
    (again,) = response.json()["invoices"]
    assert (again["amount"], again["vat"], again["total"]) == ("1000.00", "60.00", "1060.00")
    assert sequence_of(again["number"]) == 3
    # Blue 12345.67 − red 1060.00 + blue 1060.00 = the bill, to the fen; nothing more can be invoiced.
    invoices = Invoice.objects.filter(bill=blue.bill)
    assert sum(i.total.amount for i in invoices) == blue.bill.total.amount
    assert finance_client.post(f"/api/v1/bills/{blue.bill.number}/invoices/", {}, format="json").status_code == 409


def test_it_reverses_the_invoices_of_a_voided_bill_then_invoices_its_reissue(acme_bill, finance_user):
    invoice_issue(bill=acme_bill)
    (blue,) = Invoice.objects.filter(bill=acme_bill)
    before = frozen(blue)

    bill_void(bill=acme_bill, reason="合同折扣漏算", actor=finance_user)

    acme_bill.refresh_from_db()
    assert acme_bill.status == Bill.Status.VOID
    (red,) = Invoice.objects.filter(bill=acme_bill, color=Invoice.Color.RED)
    assert (red.amount.amount, red.vat.amount, red.total.amount) == (
        Decimal("-11646.86"),
        Decimal("-698.81"),
        Decimal("-12345.67"),
    )
    assert (red.red_reason, red.original_id, red.status) == (RedReason.ERROR, blue.pk, Invoice.Status.ISSUED)
    assert frozen(blue) == before
    assert blue.status == Invoice.Status.REVERSED

    (outcome,) = bill_reissue(bill=acme_bill, actor=finance_user)
    reissued = outcome.bill
    assert reissued.number == "BILL-ACME-202610-R1"
    (new,) = invoice_issue(bill=reissued)
    assert (new.status, new.total.amount, new.bill_id) == (Invoice.Status.ISSUED, Decimal("12345.67"), reissued.pk)
    assert [sequence_of(i.number) for i in (blue, red, new)] == [1, 2, 3]
