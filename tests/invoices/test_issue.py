"""Issuing VAT invoices on a bill: POST /api/v1/bills/{number}/invoices/ (CONTRACT.md),
the conditions a bill must meet, amounts equal to the bill, splitting by the seller's
amount limit, 20-digit numbers and the frozen seller snapshot."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from djmoney.money import Money

from billing.bills.lifecycle import bill_confirm, payment_record
from billing.models import Bill, SellerProfile
from customers.models import Contract, InvoiceTitle
from invoices.models import Invoice
from invoices.services import invoice_issue
from tests.invoices.helpers import (
    CONTRACT_KEYS,
    EXTRA_KEYS,
    SELLER,
    SELLER_TAX_ID,
    SHANGHAI,
    commitment_bill,
    sequence_of,
    usage_bill,
)

pytestmark = pytest.mark.django_db


def issue_url(bill: Bill) -> str:
    return f"/api/v1/bills/{bill.number or bill.pk}/invoices/"


def test_it_issues_a_special_invoice_for_the_whole_bill(finance_client, acme, acme_bill):
    response = finance_client.post(issue_url(acme_bill), {"invoice_type": "special"}, format="json")

    assert response.status_code == 201, response.json()
    (invoice,) = response.json()["invoices"]
    assert set(invoice) == CONTRACT_KEYS | EXTRA_KEYS
    assert {key: invoice[key] for key in CONTRACT_KEYS} == {
        "number": "26311000000000000001",
        "bill": "BILL-ACME-202610",
        "color": "blue",
        "invoice_type": "special",
        "status": "issued",
        "issued_on": "2026-11-05",
        "amount": "11646.86",
        "vat": "698.81",
        "total": "12345.67",
        "currency": "CNY",
        "buyer_name": "上海阿克米信息技术有限公司",
        "buyer_tax_id": acme.tax_id,
        "original": None,
        "red_reason": None,
    }
    (line,) = invoice["lines"]
    assert (line["amount"], line["tax"], line["tax_code"]) == ("11646.86", "698.81", "3040201990000000000")
    assert line["item"] == "*其他软件服务*大模型API调用服务"


def test_it_issues_an_ordinary_invoice_when_asked(finance_client, acme_bill):
    response = finance_client.post(issue_url(acme_bill), {"invoice_type": "ordinary"}, format="json")

    assert response.status_code == 201
    (invoice,) = response.json()["invoices"]
    assert (invoice["invoice_type"], invoice["amount"], invoice["vat"], invoice["total"]) == (
        "ordinary",
        "11646.86",
        "698.81",
        "12345.67",
    )


def test_it_takes_the_invoice_type_from_the_contract_when_none_is_given(finance_client, acme, seller):
    bill = commitment_bill(acme, Decimal("100.00"), invoice_type="ordinary")

    response = finance_client.post(issue_url(bill), {}, format="json")

    assert response.status_code == 201
    assert response.json()["invoices"][0]["invoice_type"] == "ordinary"


def test_it_allocates_the_bill_vat_across_per_model_lines_by_largest_remainder(finance_client, acme_project, seller):
    bill = usage_bill(
        acme_project,
        {
            ("openai", "gpt-4o"): Decimal("1000.05"),
            ("anthropic", "claude-sonnet-4"): Decimal("2000.05"),
            ("deepseek", "deepseek-chat"): Decimal("3000.05"),
        },
    )
    assert (bill.subtotal.amount, bill.vat.amount) == (Decimal("6000.15"), Decimal("360.01"))

    response = finance_client.post(issue_url(bill), {"invoice_type": "special", "lines": "model"}, format="json")

    assert response.status_code == 201
    (invoice,) = response.json()["invoices"]
    # Rounding each line would give 60.00 + 120.00 + 180.00 = 360.00, a fen short of the bill:
    # the fen goes to the line with the largest remainder (18000.35 fen).
    assert sorted((ln["spec"], ln["amount"], ln["tax"]) for ln in invoice["lines"]) == [
        ("claude-sonnet-4", "2000.05", "120.00"),
        ("deepseek-chat", "3000.05", "180.01"),
        ("gpt-4o", "1000.05", "60.00"),
    ]
    assert (invoice["amount"], invoice["vat"], invoice["total"]) == ("6000.15", "360.01", "6360.16")
    stored = Invoice.objects.get(number=invoice["number"])
    assert sum(ln.amount.amount for ln in stored.lines.all()) == Decimal("6000.15")
    assert sum(ln.tax.amount for ln in stored.lines.all()) == Decimal("360.01")


def test_it_refuses_a_special_invoice_without_the_buyer_tax_id(finance_client, acme, acme_bill):
    acme.__class__.objects.filter(pk=acme.pk).update(tax_id="")

    response = finance_client.post(issue_url(acme_bill), {"invoice_type": "special"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tax_id"]
    assert not Invoice.objects.exists()
    # An ordinary invoice does not need it.
    assert finance_client.post(issue_url(acme_bill), {"invoice_type": "ordinary"}, format="json").status_code == 201


def test_it_uses_the_default_invoice_title_for_the_buyer(finance_client, acme, acme_bill):
    InvoiceTitle.objects.create(
        customer=acme, name="阿克米（上海）集团有限公司", tax_id="91310000MA1FL0000X", email="fapiao@acme.example.cn"
    )

    response = finance_client.post(issue_url(acme_bill), {"invoice_type": "special"}, format="json")

    (invoice,) = response.json()["invoices"]
    assert (invoice["buyer_name"], invoice["buyer_tax_id"]) == ("阿克米（上海）集团有限公司", "91310000MA1FL0000X")


def test_it_refuses_a_draft_bill(finance_client, acme, seller):
    draft = Bill.objects.create(
        customer=acme,
        period=date(2026, 10, 1),
        status=Bill.Status.DRAFT,
        subtotal=Money(Decimal("100.00"), "CNY"),
        vat=Money(Decimal("6.00"), "CNY"),
        total=Money(Decimal("106.00"), "CNY"),
        vat_rate=Decimal("0.06"),
        hold_reason="No USD exchange rate for 2026-10.",
    )

    response = finance_client.post(issue_url(draft), {"invoice_type": "special"}, format="json")

    assert response.status_code == 409
    assert not Invoice.objects.exists()


def test_it_waits_for_payment_when_the_contract_invoices_after_payment(finance_client, acme, seller):
    bill = commitment_bill(acme, Decimal("1000.00"), invoice_timing=Contract.InvoiceTiming.AFTER_PAYMENT)

    assert finance_client.post(issue_url(bill), {}, format="json").status_code == 409
    payment_record(bill=bill, amount=Decimal("500.00"), received_on=date(2026, 11, 4), reference="TX-1")
    assert finance_client.post(issue_url(bill), {}, format="json").status_code == 409  # partly paid
    payment_record(bill=bill, amount=Decimal("560.00"), received_on=date(2026, 11, 5), reference="TX-2")

    response = finance_client.post(issue_url(bill), {}, format="json")

    assert response.status_code == 201
    assert response.json()["invoices"][0]["total"] == "1060.00"


def test_it_waits_for_the_statement_confirmation_when_the_contract_requires_it(finance_client, acme, alice, seller):
    bill = commitment_bill(acme, Decimal("1000.00"), requires_confirmation=True)

    assert finance_client.post(issue_url(bill), {}, format="json").status_code == 409
    bill_confirm(bill=bill, confirmed=False, note="用量与我方记录不符", actor=alice)
    assert finance_client.post(issue_url(bill), {}, format="json").status_code == 409  # disputed
    bill_confirm(bill=bill, confirmed=True, actor=alice)

    assert finance_client.post(issue_url(bill), {}, format="json").status_code == 201


def test_it_refuses_a_second_invoice_on_a_fully_invoiced_bill(finance_client, acme_bill):
    assert finance_client.post(issue_url(acme_bill), {}, format="json").status_code == 201

    response = finance_client.post(issue_url(acme_bill), {}, format="json")

    assert response.status_code == 409
    assert Invoice.objects.count() == 1


def test_it_splits_a_bill_over_the_amount_limit_into_invoices_that_sum_to_it(finance_client, acme, seller):
    SellerProfile.objects.filter(pk=seller.pk).update(invoice_amount_limit=Decimal("5000.00"))
    bill = commitment_bill(acme, Decimal("11646.86"))

    response = finance_client.post(issue_url(bill), {}, format="json")

    assert response.status_code == 201
    invoices = response.json()["invoices"]
    assert [(i["amount"], i["vat"], i["total"]) for i in invoices] == [
        ("5000.00", "300.00", "5300.00"),
        ("5000.00", "300.00", "5300.00"),
        ("1646.86", "98.81", "1745.67"),
    ]
    assert sum(Decimal(i["amount"]) for i in invoices) == Decimal("11646.86")
    assert sum(Decimal(i["vat"]) for i in invoices) == Decimal("698.81")
    assert sum(Decimal(i["total"]) for i in invoices) == Decimal("12345.67")
    assert [sequence_of(i["number"]) for i in invoices] == [1, 2, 3]


def test_it_numbers_invoices_with_year_province_channel_and_a_15_digit_sequence(acme_bill, other_customer):
    other_bill = commitment_bill(other_customer, Decimal("10.00"))

    (first,) = invoice_issue(bill=acme_bill)
    (second,) = invoice_issue(bill=other_bill)

    for invoice, sequence in ((first, 1), (second, 2)):
        assert len(invoice.number) == 20 and invoice.number.isdigit()
        assert invoice.number[:2] == "26"  # year 2026
        assert invoice.number[2:4] == "31"  # the seller's tax bureau: Shanghai
        assert invoice.number[4] == "1"  # issuing channel
        assert invoice.number[5:] == f"{sequence:015d}"


def test_it_restarts_the_sequence_in_a_new_year(acme, other_customer, seller, time_machine):
    december = commitment_bill(acme, Decimal("10.00"), period=date(2026, 11, 1), today=date(2026, 12, 1))
    january = commitment_bill(other_customer, Decimal("20.00"), period=date(2026, 11, 1), today=date(2026, 12, 1))
    time_machine.move_to(datetime(2026, 12, 31, 23, 50, tzinfo=SHANGHAI), tick=False)
    (last_of_2026,) = invoice_issue(bill=december)

    time_machine.move_to(datetime(2027, 1, 1, 0, 10, tzinfo=SHANGHAI), tick=False)
    (first_of_2027,) = invoice_issue(bill=january)

    assert last_of_2026.number == "26311000000000000001"
    assert last_of_2026.issued_on == date(2026, 12, 31)
    assert first_of_2027.number == "27311000000000000001"
    assert first_of_2027.issued_on == date(2027, 1, 1)


def test_it_freezes_the_seller_on_the_invoice(acme_bill, seller):
    (invoice,) = invoice_issue(bill=acme_bill)
    frozen = dict(invoice.seller)

    SellerProfile.objects.filter(pk=seller.pk).update(
        name="上海智算科技股份有限公司", address="上海市徐汇区漕河泾1号", bank_account="999"
    )
    invoice.refresh_from_db()

    assert invoice.seller == frozen
    assert (invoice.seller["name"], invoice.seller["tax_id"], invoice.seller["address"]) == (
        SELLER["name"],
        SELLER_TAX_ID,
        SELLER["address"],
    )


def test_per_model_lines_print_their_unit_in_chinese_whatever_the_requester_reads(finance_client, acme_project, seller):
    bill = usage_bill(acme_project, {("openai", "gpt-4o"): Decimal("10.00"), ("openai", "gpt-5"): Decimal("20.00")})

    response = finance_client.post(
        issue_url(bill), {"invoice_type": "special", "lines": "model"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 201, response.json()
    stored = Invoice.objects.get(number=response.json()["invoices"][0]["number"])
    assert {ln.unit for ln in stored.lines.all()} == {"月"}
