"""The statement of account (对账函): GET /api/v1/customers/{code}/statement/ and its PDF.

ACME pays a monthly service fee of 1,000.00 (VAT 6 %: bills of 1,060.00; 30 days to pay):

- 11-01 BILL-ACME-202610 1,060.00 issued; paid 60.00 the same day (CMB-1) and 1,000.00 on
  11-20 (CMB-2);
- 12-01 BILL-ACME-202611 1,060.00 issued; 500.00 paid on 12-05 (CMB-3);
- 12-08 it is voided (the 500.00 becomes credit), the fee lowered to 800.00, and it is
  reissued as BILL-ACME-202611-R1: 848.00, 500.00 of it paid at once by the credit;
- 12-20 400.00 paid (CMB-4) against the 348.00 left: 52.00 overpaid, held as credit;
- 01-01 BILL-ACME-202612 848.00 issued, 52.00 of it paid by the credit.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.bills.lifecycle import bill_reissue, bill_void, payment_record
from billing.bills.receivables import receivables_aging
from billing.bills.statement import customer_statement
from billing.models import Bill, Payment
from billing.pricing.money import rmb_upper
from tests.billing.close_helpers import DEC, NOV, close, only, set_terms, travel
from tests.billing.test_bill_pdf import pdf_text

OCT = date(2026, 10, 1)
_codes = itertools.count()
URL = "/api/v1/customers/ACME/statement/"


def pay(bill: Bill, amount: str, on: date, reference: str) -> Payment:
    with travel(on.year, on.month, on.day, 12):
        payment, _created = payment_record(
            bill=Bill.objects.get(pk=bill.pk), amount=Decimal(amount), received_on=on, reference=reference
        )
    return payment


@pytest.fixture
def history(acme):
    """ACME's bills and payments of October to December (module docstring)."""
    set_terms(acme, monthly_service_fee=Decimal("1000.00"))
    with travel(2026, 11, 1):
        october = only(close(acme, OCT))
    pay(october, "60.00", date(2026, 11, 1), "CMB-1")
    pay(october, "1000.00", date(2026, 11, 20), "CMB-2")
    with travel(2026, 12, 1):
        november = only(close(acme, NOV))
    pay(november, "500.00", date(2026, 12, 5), "CMB-3")
    with travel(2026, 12, 8):
        bill_void(bill=november, reason="服务费调整")
        set_terms(acme, monthly_service_fee=Decimal("800.00"))
        reissued = only(bill_reissue(bill=november))
    pay(reissued, "400.00", date(2026, 12, 20), "CMB-4")
    with travel(2027, 1, 1):
        december = only(close(acme, DEC))
    return {"october": october, "november": november, "reissued": reissued, "december": december}


def entry(day: str, kind: str, number: str, debit: str, credit: str, balance: str) -> dict:
    return {"date": day, "kind": kind, "number": number, "debit": debit, "credit": credit, "balance": balance}


def test_it_lists_bills_and_payments_with_running_balances(history, finance_client):
    assert history["reissued"].number == "BILL-ACME-202611-R1"
    assert history["reissued"].total.amount == Decimal("848.00")

    response = finance_client.get(URL, {"from": "2026-11-01", "to": "2026-12-31"})

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "customer": "ACME",
        "from": "2026-11-01",
        "to": "2026-12-31",
        "currency": "CNY",
        "opening_balance": "0.00",
        "entries": [
            # The bill before the payment of the same day.
            entry("2026-11-01", "bill", "BILL-ACME-202610", "1060.00", "0.00", "1060.00"),
            entry("2026-11-01", "payment", "CMB-1", "0.00", "60.00", "1000.00"),
            entry("2026-11-20", "payment", "CMB-2", "0.00", "1000.00", "0.00"),
            # The voided BILL-ACME-202611 is not there; the money paid on it is.
            entry("2026-12-05", "payment", "CMB-3", "0.00", "500.00", "-500.00"),
            # Its reissue counts as what it is; the credit that paid part of it is no payment.
            entry("2026-12-08", "bill", "BILL-ACME-202611-R1", "848.00", "0.00", "348.00"),
            # The whole transfer, overpayment included: the customer now holds 52.00 of credit.
            entry("2026-12-20", "payment", "CMB-4", "0.00", "400.00", "-52.00"),
        ],
        "closing_balance": "-52.00",
    }


def test_the_opening_balance_is_what_was_billed_less_what_was_paid_before(history, alice_client):
    response = alice_client.get(URL, {"from": "2026-12-06", "to": "2027-01-31"})

    assert response.status_code == 200
    body = response.json()
    # 1,060.00 − 60.00 − 1,000.00 − 500.00 (the voided bill counts for nothing)
    assert body["opening_balance"] == "-500.00"
    assert [(e["number"], e["balance"]) for e in body["entries"]] == [
        ("BILL-ACME-202611-R1", "348.00"),
        ("CMB-4", "-52.00"),
        ("BILL-ACME-202612", "796.00"),
    ]
    assert body["closing_balance"] == "796.00"


def test_the_closing_balance_equals_the_receivables_aging_of_the_customer(history):
    with travel(2027, 1, 2):
        aging = receivables_aging(as_of=date(2027, 1, 2))
        statement = customer_statement(customer=history["october"].customer, start=OCT, end=date(2027, 1, 2))
    (row,) = [r for r in aging["rows"] if r["customer"] == "ACME"]
    assert row["total"] == "796.00"  # BILL-ACME-202612: 848.00 − 52.00 of credit
    assert f"{statement.closing_balance:.2f}" == row["total"]


def test_it_defaults_to_the_current_month(history, finance_client):
    with travel(2026, 12, 15):
        body = finance_client.get(URL).json()
    assert (body["from"], body["to"]) == ("2026-12-01", "2026-12-31")
    assert body["opening_balance"] == "0.00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-12-01", "to": "2026-11-30"}, "to"),
        ({"to": "26-12-31"}, "to"),
        ({"from": "1999-12-31"}, "from"),
        ({"from": "２０２６-12-01"}, "from"),
    ],
)
def test_a_bad_date_is_a_400_naming_it(acme, finance_client, query, field):
    response = finance_client.get(URL, query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_it_is_scoped_like_the_bills(history, alice_client, bob_client, charlie_client, gateway_client):
    assert alice_client.get(URL).status_code == 200
    assert bob_client.get(URL).status_code == 403  # developer
    assert charlie_client.get(URL).status_code == 404  # another customer
    assert charlie_client.get(URL + "pdf/").status_code == 404
    assert bob_client.get(URL + "pdf/").status_code == 403
    assert gateway_client.get(URL).status_code == 403


def test_the_pdf_has_both_parties_the_balances_the_entries_and_a_confirmation_slip(history, alice_client, settings):
    response = alice_client.get(URL + "pdf/", {"from": "2026-11-01", "to": "2027-01-31"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="STATEMENT-ACME-20261101-20270131.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "对账函" in "".join(text.split())
    assert "上海阿克米信息技术有限公司" in text  # the buyer
    assert history["october"].seller["name"] in text  # the seller
    assert "期初余额" in text and "期末余额" in text
    for number in ("BILL-ACME-202610", "CMB-1", "CMB-3", "BILL-ACME-202611-R1", "CMB-4", "BILL-ACME-202612"):
        assert number in text
    assert "BILL-ACME-202611\n" not in text and "BILL-ACME-202611 " not in text  # the voided bill is not listed
    assert "796.00" in text
    assert rmb_upper(Decimal("796.00")) == "柒佰玖拾陆圆整"
    assert "柒佰玖拾陆圆整" in text
    assert "对账确认回执" in text and "盖章" in text


def test_a_credit_balance_is_written_as_such_in_the_pdf(history, finance_client):
    text = pdf_text(finance_client.get(URL + "pdf/", {"from": "2026-12-01", "to": "2026-12-31"}).content)
    assert "-¥52.00" in text  # the one money format, a credit led by its sign
    assert "预付" in text and "伍拾贰圆整" in text


@settings(max_examples=25, deadline=None)
@given(
    # At most 6 × 170.00 < 1,060.00: the bill stays open to every payment.
    amounts=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("170"), places=2), max_size=6),
    split=st.integers(min_value=0, max_value=60),
)
@pytest.mark.django_db
def test_any_split_of_the_range_carries_the_balance_over(amounts, split):
    """The closing balance of one range is the opening of the next, and equals bills − payments."""
    from tests.billing.close_helpers import customer_with_contract

    customer = customer_with_contract(f"PROP{next(_codes)}", monthly_service_fee=Decimal("1000.00"))
    with travel(2026, 11, 1):
        bill = only(close(customer, OCT))
    for i, amount in enumerate(amounts):
        pay(bill, f"{amount}", date(2026, 11, 1 + i), f"P-{i}")
    start, end = date(2026, 10, 20), date(2026, 12, 19)
    middle = date.fromordinal(start.toordinal() + split)
    whole = customer_statement(customer=customer, start=start, end=end)
    first = customer_statement(customer=customer, start=start, end=middle)
    second = customer_statement(customer=customer, start=date.fromordinal(middle.toordinal() + 1), end=end)
    assert first.closing_balance == second.opening_balance
    assert second.closing_balance == whole.closing_balance == Decimal("1060.00") - sum(amounts, Decimal(0))
    assert [e.balance for e in whole.entries] == [e.balance for e in first.entries + second.entries]


def test_one_transfer_that_paid_two_bills_is_one_payment_entry_of_its_whole_amount(acme, finance_client):
    set_terms(acme, monthly_service_fee=Decimal("1000.00"))
    with travel(2026, 11, 1):
        october = only(close(acme, OCT))
    with travel(2026, 12, 1):
        november = only(close(acme, NOV))
    # What banking's matching books for one transfer covering both: a payment per bill, one reference.
    with travel(2026, 12, 10, 12):
        for bill in (october, november):
            payment_record(
                bill=Bill.objects.get(pk=bill.pk),
                amount=bill.total.amount,
                received_on=date(2026, 12, 10),
                reference="CMB-BOTH",
                split=True,
            )
    assert Payment.objects.filter(reference="CMB-BOTH").count() == 2

    response = finance_client.get(URL, {"from": "2026-12-01", "to": "2026-12-31"})

    payments = [e for e in response.json()["entries"] if e["kind"] == "payment"]
    assert payments == [entry("2026-12-10", "payment", "CMB-BOTH", "0.00", "2120.00", "0.00")]
