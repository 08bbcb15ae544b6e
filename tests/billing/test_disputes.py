"""Disputes answered: the thread between the customer and finance, the resolution, and a
correction as a ``credit`` line on the next bill — never an edit of the disputed one.

ACME pays a monthly service fee of 1,000.00 (VAT 6 %): BILL-ACME-202611 is 1,060.00.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.bills.disputes import credit_remaining
from billing.bills.lifecycle import bill_reissue, bill_void
from billing.models import Bill, BillCredit
from tests.billing.close_helpers import DEC, JAN, NOV, close, lines_of, only, set_terms, travel

BILL = "/api/v1/bills/BILL-ACME-202611/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def november(acme) -> Bill:
    set_terms(acme, monthly_service_fee=Decimal("1000.00"))
    with travel(2026, 12, 1):
        return only(close(acme, NOV))


@pytest.fixture
def disputed(november, alice_client) -> Bill:
    response = alice_client.post(BILL + "confirm/", {"confirmed": False, "note": "服务费应为 900 元"}, format="json")
    assert response.status_code == 200
    return november


def thread(client) -> list[tuple]:
    return [(m["kind"], m["side"], m["author"], m["text"]) for m in client.get(BILL + "dispute/").json()["messages"]]


def test_the_customer_and_finance_write_in_the_dispute_thread(disputed, alice_client, finance_client):
    reply = finance_client.post(BILL + "dispute/messages/", {"text": "请提供合同补充协议"}, format="json")
    assert reply.status_code == 201, reply.json()
    answer = alice_client.post(BILL + "dispute/messages/", {"text": "补充协议已邮件发送"}, format="json")
    assert answer.status_code == 201

    expected = [
        ("dispute", "customer", "alice", "服务费应为 900 元"),
        ("reply", "finance", "fiona", "请提供合同补充协议"),
        ("reply", "customer", "alice", "补充协议已邮件发送"),
    ]
    assert thread(alice_client) == expected
    assert thread(finance_client) == expected
    assert alice_client.get(BILL + "dispute/").json()["confirmation"] == "disputed"
    assert disputed.events.filter(kind="dispute_message").count() == 2


def test_the_thread_is_scoped_like_the_bill(disputed, bob_client, charlie_client):
    assert bob_client.get(BILL + "dispute/").status_code == 403
    assert bob_client.post(BILL + "dispute/messages/", {"text": "x"}, format="json").status_code == 403
    assert charlie_client.get(BILL + "dispute/").status_code == 404
    assert charlie_client.post(BILL + "dispute/messages/", {"text": "x"}, format="json").status_code == 404


def test_a_message_needs_text_and_an_open_dispute(november, disputed, alice_client, finance_client):
    empty = alice_client.post(BILL + "dispute/messages/", {"text": "  "}, format="json")
    assert empty.status_code == 400 and list(empty.json()["errors"]) == ["text"]
    long = alice_client.post(BILL + "dispute/messages/", {"text": "长" * 2001}, format="json")
    assert long.status_code == 400 and list(long.json()["errors"]) == ["text"]

    resolved = finance_client.post(BILL + "dispute/resolve/", {"note": "已按合同核实"}, format="json")
    assert resolved.status_code == 200
    assert resolved.json()["confirmation"] == "pending"
    assert resolved.json()["messages"][-1]["kind"] == "resolved"
    late = alice_client.post(BILL + "dispute/messages/", {"text": "还有问题"}, format="json")
    assert late.status_code == 409
    assert finance_client.post(BILL + "dispute/resolve/", {"note": "again"}, format="json").status_code == 409


def test_only_finance_resolves_and_grants_credits(disputed, alice_client):
    assert alice_client.post(BILL + "dispute/resolve/", {"note": "ok"}, format="json").status_code == 403
    refused = alice_client.post(BILL + "credits/", {"amount": "100.00", "reason": "x"}, format="json")
    assert refused.status_code == 403
    assert not BillCredit.objects.exists()


def test_a_credit_corrects_on_the_next_bill_and_never_edits_the_disputed_one(disputed, finance_client, alice_client):
    before = (disputed.total.amount, lines_of(disputed))
    response = finance_client.post(
        BILL + "credits/", {"amount": "100.00", "reason": "服务费按补充协议 900 元"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "id": response.json()["id"],
        "bill": "BILL-ACME-202611",
        "amount": "100.00",
        "currency": "CNY",
        "reason": "服务费按补充协议 900 元",
        "remaining": "100.00",
        "carried_on": [],
    }
    disputed.refresh_from_db()
    assert disputed.confirmation == "pending"  # the credit resolved the dispute: dunning resumes
    assert (disputed.total.amount, lines_of(disputed)) == before
    assert [m[0] for m in thread(alice_client)] == ["dispute", "credit", "resolved"]

    with travel(2027, 1, 1):
        december = only(close(disputed.customer, DEC))
    assert lines_of(december) == [
        ("service_fee", DEC, None, "", 0, Decimal("1000.00")),
        ("credit", NOV, None, "", 0, Decimal("-100.00")),
    ]
    line = december.lines.get(kind="credit")
    assert "BILL-ACME-202611" in line.note and "服务费按补充协议 900 元" in line.note
    # VAT applies to the credit line as to any line: (1,000.00 − 100.00) × 6 % = 54.00.
    assert (december.subtotal.amount, december.vat.amount, december.total.amount) == (
        Decimal("900.00"),
        Decimal("54.00"),
        Decimal("954.00"),
    )
    api_line = finance_client.get("/api/v1/bills/BILL-ACME-202612/").json()["lines"][1]
    assert (api_line["kind"], api_line["amount"], api_line["note"]) == ("credit", "-100.00", line.note)
    assert finance_client.get(BILL + "credits/").json()[0]["carried_on"] == ["BILL-ACME-202612"]

    with travel(2027, 2, 1):
        january = only(close(disputed.customer, JAN))
    assert [k for k, *_rest in lines_of(january)] == ["service_fee"]  # carried once


def test_a_credit_larger_than_the_next_bill_waits_for_the_one_after(november, finance_user):
    from billing.bills.disputes import bill_credit_grant

    credit = bill_credit_grant(bill=november, amount=Decimal("1000.00"), reason="全额减免", actor=finance_user)
    set_terms(november.customer, monthly_service_fee=Decimal("600.00"))
    with travel(2027, 1, 1):
        december = only(close(november.customer, DEC))
    assert [line[5] for line in lines_of(december)] == [Decimal("600.00"), Decimal("-600.00")]
    assert (december.total.amount, december.status) == (Decimal("0.00"), Bill.Status.PAID)  # nothing to pay
    assert credit_remaining(credit) == Decimal("400.00")
    with travel(2027, 2, 1):
        january = only(close(november.customer, JAN))
    assert [line[5] for line in lines_of(january)] == [Decimal("600.00"), Decimal("-400.00")]
    assert january.total.amount == Decimal("212.00")
    assert credit_remaining(credit) == Decimal("0.00")


def test_a_voided_bill_gives_its_credit_to_the_reissue(november, finance_user):
    from billing.bills.disputes import bill_credit_grant

    credit = bill_credit_grant(bill=november, amount=Decimal("50.00"), reason="折让", actor=finance_user)
    with travel(2027, 1, 1):
        december = only(close(november.customer, DEC))
    assert credit_remaining(credit) == Decimal("0.00")
    with travel(2027, 1, 3):
        bill_void(bill=december, reason="重开")
        reissued = only(bill_reissue(bill=december, today=date(2027, 1, 3)))
    assert reissued.number == "BILL-ACME-202612-R1"
    assert lines_of(reissued)[-1] == ("credit", NOV, None, "", 0, Decimal("-50.00"))
    assert credit_remaining(credit) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "why"),
    [("0", "zero"), ("-5.00", "negative"), ("1000.01", "more than the bill before VAT"), ("abc", "not a number")],
)
def test_a_credit_amount_out_of_bounds_is_a_400_naming_it(november, finance_client, amount, why):
    response = finance_client.post(BILL + "credits/", {"amount": amount, "reason": "x"}, format="json")
    assert response.status_code == 400, why
    assert list(response.json()["errors"]) == ["amount"]
    assert not BillCredit.objects.exists()


def test_credits_on_one_bill_never_exceed_it(november, finance_client):
    assert finance_client.post(BILL + "credits/", {"amount": "600.00", "reason": "a"}, format="json").status_code == 201
    second = finance_client.post(BILL + "credits/", {"amount": "400.01", "reason": "b"}, format="json")
    assert second.status_code == 400 and "400.00" in second.json()["errors"]["amount"][0]
    assert finance_client.post(BILL + "credits/", {"amount": "400.00", "reason": "b"}, format="json").status_code == 201
    missing = finance_client.post(BILL + "credits/", {"amount": "1.00", "reason": ""}, format="json")
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["reason"]


def test_a_bill_with_a_credit_line_is_invoiced_as_one_net_line(november, finance_user):
    from billing.bills.disputes import bill_credit_grant
    from invoices.services import invoice_issue

    bill_credit_grant(bill=november, amount=Decimal("100.00"), reason="折让", actor=finance_user)
    with travel(2027, 1, 1):
        december = only(close(november.customer, DEC))
    with travel(2027, 1, 2):
        (invoice,) = invoice_issue(bill=december, invoice_type="ordinary", per_model=True, actor=finance_user)
    # One line of the net 900.00 (the fee less the credit), VAT 54.00: never a negative line.
    assert [(line.amount.amount, line.tax.amount) for line in invoice.lines.all()] == [
        (Decimal("900.00"), Decimal("54.00"))
    ]
    assert (invoice.amount.amount, invoice.vat.amount) == (Decimal("900.00"), Decimal("54.00"))


_codes = itertools.count()


@settings(max_examples=15, deadline=None)
@given(
    fees=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2), min_size=3, max_size=3),
    shares=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=3),
)
@pytest.mark.django_db
def test_credits_are_carried_exactly_once_and_never_below_zero(fees, shares):
    """Credits granted on the first bill (each a share of it) are carried by the next bills:
    what the credit lines take plus what is left equals what was granted; no bill goes below
    zero; VAT is the rule's on what remains."""
    from billing.bills.disputes import bill_credit_grant
    from tests.billing.close_helpers import customer_with_contract

    customer = customer_with_contract(f"CR{next(_codes)}", monthly_service_fee=fees[0])
    with travel(2026, 11, 1):
        first = only(close(customer, date(2026, 10, 1)))
    granted = Decimal(0)
    for share in shares:
        room = first.subtotal.amount - granted
        amount = (room * share / 100).quantize(Decimal("0.01"))
        if amount <= 0:
            continue
        credit = bill_credit_grant(bill=first, amount=amount, reason=f"share {share}", actor=None)
        granted += credit.amount.amount
    bills = []
    for fee, (period, day) in zip(fees[1:], [(NOV, (2026, 12, 1)), (DEC, (2027, 1, 1))], strict=True):
        set_terms(customer, monthly_service_fee=fee)
        with travel(*day):
            bills.append(only(close(customer, period)))
    carried = Decimal(0)
    for bill, fee in zip(bills, fees[1:], strict=True):
        credit_lines = sum((line[5] for line in lines_of(bill) if line[0] == "credit"), Decimal(0))
        carried -= credit_lines
        assert bill.subtotal.amount == fee + credit_lines >= 0
        assert bill.vat.amount == (bill.subtotal.amount * Decimal("0.06")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    left = sum((credit_remaining(c) for c in BillCredit.objects.filter(bill=first)), Decimal(0))
    assert carried + left == granted
    assert carried == min(granted, fees[1] + fees[2])  # each bill takes what fits, oldest credit first
