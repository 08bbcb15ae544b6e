"""One rule for the seller and one buyer snapshot (issue 24, item 4).

A bill needs our company's name and bank account for the customer to pay it: with no seller
profile in force the close holds the bill in draft saying so (added, and closed again, it
is issued), and invoicing refuses in the same words. Bills, statements and invoices freeze
the buyer with one key set; snapshots stored before that stay readable.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import translation
from djmoney.money import Money

from billing.bills.close import month_close_customer
from billing.bills.parties import BUYER_KEYS, seller_missing_reason
from billing.models import Bill, BillEvent, SellerProfile
from customers.models import Contract, InvoiceTitle
from invoices.models import Invoice
from tests.factories import valid_uscc
from tests.invoices.helpers import CLOSED_ON, PERIOD, SELLER, commitment_bill, seller_profile

NO_SELLER_EN = (
    "No seller profile is in force on 2026-11-02: a bill needs our company's name and bank account for the "
    "customer to pay it. Add a seller profile in the admin (Billing › Seller profiles) and close again."
)


def _commitment(customer, amount: str) -> None:
    Contract.objects.filter(customer=customer).update(minimum_monthly_commitment=Money(Decimal(amount), "CNY"))


def test_a_close_without_a_seller_profile_holds_the_bill_and_says_why(acme):
    SellerProfile.objects.all().delete()
    _commitment(acme, "1000.00")

    with translation.override("en"):
        (outcome,) = month_close_customer(customer=acme, period=PERIOD, today=CLOSED_ON)

    bill = outcome.bill
    assert (outcome.action, bill.status, bill.number, bill.seller) == ("held", Bill.Status.DRAFT, None, {})
    assert bill.hold_reason == NO_SELLER_EN
    assert BillEvent.objects.get(bill=bill, kind=BillEvent.Kind.HELD).data["reasons"] == [NO_SELLER_EN]
    with translation.override("zh-hans"):
        assert "销售方" in seller_missing_reason(CLOSED_ON)  # the clerk reads it in Chinese too

    seller_profile()  # finance adds our company, then closes again
    (again,) = month_close_customer(customer=acme, period=PERIOD, today=CLOSED_ON)

    bill.refresh_from_db()
    assert (again.action, bill.status, bill.number, bill.hold_reason) == (
        "issued",
        Bill.Status.ISSUED,
        "BILL-ACME-202610",
        "",
    )
    assert (bill.seller["name"], bill.seller["bank_account"]) == (SELLER["name"], SELLER["bank_account"])


def test_a_seller_profile_starting_after_the_close_day_does_not_count(acme):
    SellerProfile.objects.all().delete()
    seller_profile()
    SellerProfile.objects.update(effective_from=date(2026, 11, 3))  # the day after the close
    _commitment(acme, "1000.00")

    (outcome,) = month_close_customer(customer=acme, period=PERIOD, today=CLOSED_ON)

    assert outcome.bill.status == Bill.Status.DRAFT
    assert "2026-11-02" in outcome.bill.hold_reason


def test_invoicing_without_a_seller_profile_refuses_in_the_close_s_words(finance_client, acme_bill):
    SellerProfile.objects.all().delete()

    response = finance_client.post(
        f"/api/v1/bills/{acme_bill.number}/invoices/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 409
    with translation.override("en"):
        assert response.json()["detail"] == seller_missing_reason(date(2026, 11, 5))  # the clock of these tests
    assert not Invoice.objects.exists()


def test_bills_and_invoices_freeze_the_buyer_with_one_key_set(finance_client, acme, seller):
    InvoiceTitle.objects.filter(customer=acme).delete()
    title = InvoiceTitle.objects.create(
        customer=acme,
        name="上海阿克米分公司",
        tax_id=valid_uscc(7777),
        address="上海市徐汇区漕溪北路1号",
        phone="021-66668888",
        bank_name="工商银行徐汇支行",
        bank_account="1001000000000077",
        email="fapiao@acme.example.cn",
        is_default=True,
    )
    bill = commitment_bill(acme, Decimal("1000.00"))

    response = finance_client.post(f"/api/v1/bills/{bill.number}/invoices/", {}, format="json")

    assert response.status_code == 201, response.json()
    invoice = Invoice.objects.get()
    assert set(bill.buyer) == set(BUYER_KEYS)
    assert set(invoice.buyer) == set(BUYER_KEYS)
    # The bill names the customer as registered; the invoice the title it is made out to.
    assert (bill.buyer["code"], bill.buyer["name"], bill.buyer["invoice_title"]) == ("ACME", acme.name, title.name)
    assert invoice.buyer == {
        "code": "ACME",
        "name": "上海阿克米分公司",
        "tax_id": title.tax_id,
        "address": "上海市徐汇区漕溪北路1号",
        "phone": "021-66668888",
        "bank_name": "工商银行徐汇支行",
        "bank_account": "1001000000000077",
        "email": "fapiao@acme.example.cn",
        "invoice_title": "上海阿克米分公司",
    }


def test_a_snapshot_stored_with_the_old_invoice_keys_still_reads(finance_client, acme, acme_bill):
    response = finance_client.post(f"/api/v1/bills/{acme_bill.number}/invoices/", {}, format="json")
    assert response.status_code == 201, response.json()
    old = {  # the invoice's keys before one builder: no code, no invoice_title
        "name": "旧抬头有限公司",
        "tax_id": valid_uscc(8888),
        "address": "",
        "phone": "",
        "bank_name": "",
        "bank_account": "",
        "email": "",
    }
    invoice = Invoice.objects.get()
    Invoice.objects.filter(pk=invoice.pk).update(buyer=old)

    answer = finance_client.get(f"/api/v1/invoices/{invoice.number}/")
    pdf = finance_client.get(f"/api/v1/invoices/{invoice.number}/pdf/")

    assert answer.status_code == 200
    assert (answer.json()["buyer_name"], answer.json()["buyer_tax_id"]) == ("旧抬头有限公司", old["tax_id"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
