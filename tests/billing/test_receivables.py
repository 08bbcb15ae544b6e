"""Accounts-receivable aging and revenue for finance (exact sums)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing.bills.lifecycle import bill_void, payment_record
from billing.bills.receivables import aging_bucket
from billing.models import Bill
from tests.billing.close_helpers import (
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
    set_terms,
    shanghai,
    travel,
)

AS_OF = date(2027, 3, 1)


def bill_due(customer, period: date, days_past_due: int) -> Bill:
    """Close ``period`` so that the bill falls due ``days_past_due`` days before AS_OF (terms 0)."""
    return only(close(customer, period, today=AS_OF - timedelta(days=days_past_due)))


@pytest.fixture
def receivables(acme, other_customer, finance_user):
    """ACME: ten bills of 1,000.00 + 60.00 VAT = 1,060.00, due from 5 days ahead to 200 days
    ago; OTHER: one bill of 200.00 + 12.00 = 212.00, 45 days past due; a held draft."""
    set_terms(acme, minimum_monthly_commitment=Decimal("1000.00"), payment_terms_days=0)
    set_terms(other_customer, minimum_monthly_commitment=Decimal("200.00"), payment_terms_days=0)
    days = [-5, 0, 1, 30, 31, 60, 61, 90, 91, 200]
    bills = {n: bill_due(acme, date(2026, month, 1), n) for month, n in enumerate(days, start=1)}
    assert {b.total.amount for b in bills.values()} == {Decimal("1060.00")}
    with travel(2027, 2, 20):
        payment_record(bill=bills[0], amount=Decimal("60.00"), received_on=date(2027, 2, 20))
        payment_record(bill=bills[1], amount=Decimal("0.01"), received_on=date(2027, 2, 20))
        payment_record(bill=bills[31], amount=Decimal("1060.00"), received_on=date(2027, 2, 20))
        payment_record(bill=bills[60], amount=Decimal("500.00"), received_on=date(2027, 2, 20))
        payment_record(bill=bills[91], amount=Decimal("1000.00"), received_on=date(2027, 2, 20))
        bill_void(bill=bills[90], reason="wrong", actor=finance_user)
    bill_due(other_customer, date(2026, 1, 1), 45)
    held = customer_with_contract("HELD")
    ingest(record(key_for(held, "main"), model="no-such-model", input=10), now=shanghai(2026, 11, 30))
    assert only(close(held)).status == Bill.Status.DRAFT
    return bills


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-3, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
     (90, "61-90"), (91, "90+"), (400, "90+")],
)  # fmt: skip
def test_it_puts_days_past_due_in_buckets(days, bucket):
    assert aging_bucket(max(days, 0)) == bucket


def test_it_ages_open_balances_by_days_past_due(receivables, finance_client):
    response = finance_client.get(f"/api/v1/receivables/aging/?as_of={AS_OF}")

    assert response.status_code == 200
    data = response.json()
    assert data["as_of"] == "2027-03-01"
    assert data["currency"] == "CNY"
    assert data["buckets"] == ["current", "1-30", "31-60", "61-90", "90+"]
    assert data["rows"] == [
        {
            "customer": "ACME",
            "name": "上海阿克米信息技术有限公司",
            # due in 5 days: 1,060.00; due today: 1,060.00 − 60.00
            "current": "2060.00",
            # 1 day: 1,060.00 − 0.01; 30 days: 1,060.00
            "1-30": "2119.99",
            # 31 days: paid in full (left out); 60 days: 1,060.00 − 500.00
            "31-60": "560.00",
            # 61 days: 1,060.00; 90 days: void (left out)
            "61-90": "1060.00",
            # 91 days: 1,060.00 − 1,000.00; 200 days: 1,060.00
            "90+": "1120.00",
            "total": "6919.99",
        },
        {
            "customer": "OTHER",
            "name": "别家公司",
            "current": "0.00",
            "1-30": "0.00",
            "31-60": "212.00",
            "61-90": "0.00",
            "90+": "0.00",
            "total": "212.00",
        },
    ]
    assert data["totals"] == {
        "current": "2060.00",
        "1-30": "2119.99",
        "31-60": "772.00",
        "61-90": "1060.00",
        "90+": "1120.00",
        "total": "7131.99",
    }


def test_it_ages_as_of_today_by_default(receivables, finance_client):
    with travel(2027, 3, 31):  # 30 days later: every bucket shifts
        data = finance_client.get("/api/v1/receivables/aging/").json()
    assert data["as_of"] == "2027-03-31"
    assert data["totals"] == {
        "current": "0.00",
        # due 5 days after 1 March (25 days) and due on 1 March (30 days)
        "1-30": "2060.00",
        # 31 and 60 days then: 1,059.99 + 1,060.00; OTHER 75 days → 61-90
        "31-60": "2119.99",
        # 90 days then: 560.00 ACME + 212.00 OTHER
        "61-90": "772.00",
        "90+": "2180.00",  # 91 (1,060.00), 121 (60.00), 230 (1,060.00)
        "total": "7131.99",
    }


def test_it_shows_aging_and_revenue_to_finance_only(receivables, alice_client, charlie_client, bob_client):
    for client in (alice_client, charlie_client, bob_client):
        assert client.get("/api/v1/receivables/aging/").status_code == 403
        assert client.get("/api/v1/revenue/?period=2026-11").status_code == 403


@pytest.fixture
def november_revenue(acme, other_customer, finance_user):
    """ACME (discount 8 %): chatbot/gpt-4o 2.5 USD → 16.43, chatbot/claude 3 USD → 19.72;
    OTHER: gpt-4o 2.5 USD → 17.86 and a commitment of 50.00 → top-up 32.14.
    ACME's bill is voided and reissued (counted once); a draft is left out."""
    set_terms(acme, discount_percent=Decimal("8"))
    set_terms(other_customer, minimum_monthly_commitment=Decimal("50.00"))
    price()
    claude_price()
    rate(NOV, "7.1456")
    rate(date(2026, 10, 1), "7.0")
    key = key_for(acme)
    ingest(
        record(key, input=1_000_000),
        record(key, model="claude-sonnet-4", input=500_000, output=100_000),
        record(key_for(other_customer, "main"), input=1_000_000),
        # October: ACME gpt-4o 2.5 × 0.92 × 7.0 = 16.10
        record(key, input=1_000_000, at=shanghai(2026, 10, 20)),
        now=shanghai(2026, 11, 30),
    )
    held = customer_with_contract("HELD")
    ingest(record(key_for(held, "main"), model="no-such-model", input=10), now=shanghai(2026, 11, 30))
    with travel(2026, 12, 1):
        only(close(acme, date(2026, 10, 1)))
        acme_bill = only(close(acme))
        only(close(other_customer))
        only(close(held))
        voided = bill_void(bill=acme_bill, reason="re-issue", actor=finance_user)
        close(acme)
    assert voided.status == Bill.Status.VOID


def test_it_reports_revenue_by_customer(november_revenue, finance_client):
    response = finance_client.get("/api/v1/revenue/?period=2026-11&group_by=customer")

    assert response.status_code == 200
    assert response.json() == {
        "currency": "CNY",
        "group_by": "customer",
        "rows": [
            {"period": "2026-11", "key": "ACME", "amount": "36.15"},
            {"period": "2026-11", "key": "OTHER", "amount": "50.00"},
        ],
    }


def test_it_reports_revenue_by_model(november_revenue, finance_client):
    response = finance_client.get("/api/v1/revenue/?period=2026-11&group_by=model")

    assert response.json()["rows"] == [
        # the top-up lines have no model: they sort first
        {"period": "2026-11", "key": "minimum_commitment", "amount": "32.14"},
        {"period": "2026-11", "key": "claude-sonnet-4", "amount": "19.72"},
        {"period": "2026-11", "key": "gpt-4o", "amount": "34.29"},  # 16.43 + 17.86
    ]


def test_it_reports_revenue_of_every_period_without_a_filter(november_revenue, finance_client):
    rows = finance_client.get("/api/v1/revenue/").json()["rows"]
    assert rows == [
        {"period": "2026-10", "key": "ACME", "amount": "16.10"},
        {"period": "2026-11", "key": "ACME", "amount": "36.15"},
        {"period": "2026-11", "key": "OTHER", "amount": "50.00"},
    ]
    bad = finance_client.get("/api/v1/revenue/?group_by=project")
    assert bad.status_code == 400
    assert "group_by" in bad.json()["errors"]
