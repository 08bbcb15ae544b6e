"""Money rule 12 (docs/money-rules.md), the monthly service fee (管理费/服务费): one ``service_fee`` line of the
contract's fee on the customer-wide bill of every period the contract covers, even without
usage; not discounted, not converted, not counted toward the minimum commitment; VAT applies.

The usage figures are those of tests/billing/test_close.py's ``acme_usage`` (ACME, 8 %
discount, USD at 7.1456): chatbot 49.41, search 40.43, 89.84 in all."""

from __future__ import annotations

from decimal import Decimal

from billing.bills.close import customers_to_close
from billing.models import BillLine
from tests.billing.close_helpers import NOV, close, lines_of, only, set_terms, travel
from tests.billing.test_close import acme_usage  # noqa: F401


def test_the_fee_is_its_own_line_after_usage_and_vat_applies(acme_usage):  # noqa: F811
    set_terms(acme_usage, monthly_service_fee=Decimal("500.00"))
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))

    assert lines_of(bill)[-1] == ("service_fee", NOV, None, "", 0, Decimal("500.00"))
    # 89.84 + 500.00 = 589.84 (the fee is not discounted by the 8 %); VAT 35.3904 → 35.39
    assert (bill.subtotal.amount, bill.vat.amount, bill.total.amount) == (
        Decimal("589.84"),
        Decimal("35.39"),
        Decimal("625.23"),
    )


def test_the_fee_does_not_count_toward_the_minimum_commitment(acme_usage):  # noqa: F811
    set_terms(acme_usage, monthly_service_fee=Decimal("500.00"), minimum_monthly_commitment=Decimal("300.00"))
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))

    kinds = {line[0]: line[5] for line in lines_of(bill)}
    assert kinds["minimum_commitment"] == Decimal("210.16")  # 300.00 − 89.84, the fee left out
    assert kinds["service_fee"] == Decimal("500.00")
    assert bill.subtotal.amount == Decimal("800.00")


def test_a_fee_alone_makes_a_bill_in_a_month_without_usage(acme):
    set_terms(acme, monthly_service_fee=Decimal("88.00"))
    assert acme.pk in customers_to_close(NOV)
    with travel(2026, 12, 1):
        bill = only(close(acme))

    assert bill.number == "BILL-ACME-202611"
    assert lines_of(bill) == [("service_fee", NOV, None, "", 0, Decimal("88.00"))]
    # 88.00 × 0.06 = 5.28
    assert (bill.vat.amount, bill.total.amount) == (Decimal("5.28"), Decimal("93.28"))


def test_per_project_the_fee_goes_on_the_customer_wide_bill(acme_usage):  # noqa: F811
    set_terms(acme_usage, bill_per_project=True, monthly_service_fee=Decimal("500.00"))
    with travel(2026, 12, 1):
        bills = {o.bill.number: o.bill for o in close(acme_usage)}

    assert sorted(bills) == ["BILL-ACME-202611", "BILL-ACME-202611-CHATBOT", "BILL-ACME-202611-SEARCH"]
    assert lines_of(bills["BILL-ACME-202611"]) == [("service_fee", NOV, None, "", 0, Decimal("500.00"))]
    for number in ("BILL-ACME-202611-CHATBOT", "BILL-ACME-202611-SEARCH"):
        assert not bills[number].lines.filter(kind=BillLine.Kind.SERVICE_FEE).exists()


def test_no_fee_no_line(acme_usage):  # noqa: F811
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))
    assert not bill.lines.filter(kind=BillLine.Kind.SERVICE_FEE).exists()


def test_the_contract_api_takes_and_shows_the_fee_and_credit_terms(finance_client, acme):
    url = "/api/v1/customers/ACME/contracts/"
    body = {
        "number": "HT-ACME-2025",
        "starts_on": "2025-01-01",
        "ends_on": "2025-12-31",
        "monthly_service_fee": "300.00",
        "credit_limit": "50000.00",
        "suspend_after_overdue_days": 15,
    }
    answer = finance_client.post(url, body, format="json")
    assert answer.status_code == 201, answer.content
    shown = answer.json()
    assert (shown["monthly_service_fee"], shown["credit_limit"], shown["suspend_after_overdue_days"]) == (
        "300.00",
        "50000.00",
        15,
    )
    refused = finance_client.post(url, {**body, "number": "HT-X", "monthly_service_fee": "-1"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["monthly_service_fee"]
