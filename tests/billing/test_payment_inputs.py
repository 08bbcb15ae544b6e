"""Money inputs of a payment (issue 16 items 1–2): the currency must be the bill's, a retry is
never booked twice (bank reference compared after NFKC and case folding, or the API's
Idempotency-Key header), and the date received must be plausible."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Bill, Payment
from tests.billing.close_helpers import travel
from tests.billing.test_payments import november_bill, pay  # noqa: F401

URL = "/api/v1/bills/{}/payments/"


def post(client, bill, body, **headers):
    return client.post(URL.format(bill.number), body, format="json", headers=headers)


def paid(bill) -> Decimal:
    bill.refresh_from_db()
    return bill.amount_paid.amount


def test_a_payment_in_another_currency_is_refused_naming_currency(november_bill, finance_client):  # noqa: F811
    with travel(2026, 12, 10):
        response = pay(finance_client, november_bill, "10.00", "USD-WIRE-1", currency="USD")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["currency"]
    assert "CNY" in response.json()["errors"]["currency"][0]
    assert not Payment.objects.exists()
    assert paid(november_bill) == 0


def test_cny_is_the_default_and_accepted_when_named(november_bill, finance_client):  # noqa: F811
    with travel(2026, 12, 10):
        assert pay(finance_client, november_bill, "10.00", "CMB-CNY", currency="CNY").status_code == 201
    assert paid(november_bill) == Decimal("10.00")


@pytest.mark.parametrize("again", ["ＵＳＤ-1", "usd-1", " USD-1 "])
def test_the_same_reference_written_another_way_is_the_same_transfer(november_bill, finance_client, again):  # noqa: F811
    with travel(2026, 12, 10):
        first = pay(finance_client, november_bill, "100.00", "USD-1")
        repeat = pay(finance_client, november_bill, "100.00", again)
        other_amount = pay(finance_client, november_bill, "200.00", again)
    assert first.status_code == 201
    assert repeat.status_code == 200
    assert repeat.json()["id"] == first.json()["id"]
    assert other_amount.status_code == 409
    assert Payment.objects.count() == 1
    assert paid(november_bill) == Decimal("100.00")


def test_without_a_reference_or_idempotency_key_nothing_is_booked(november_bill, finance_client):  # noqa: F811
    with travel(2026, 12, 10):
        response = post(finance_client, november_bill, {"amount": "10.00", "received_on": "2026-12-10"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reference"]
    assert not Payment.objects.exists()


def test_an_idempotency_key_answers_a_retry_with_the_first_result(november_bill, finance_client):  # noqa: F811
    body = {"amount": "10.00", "received_on": "2026-12-10"}
    with travel(2026, 12, 10):
        first = post(finance_client, november_bill, body, **{"Idempotency-Key": "retry-7f3a"})
        again = post(finance_client, november_bill, body, **{"Idempotency-Key": "retry-7f3a"})
        changed = post(finance_client, november_bill, {**body, "amount": "11.00"}, **{"Idempotency-Key": "retry-7f3a"})
        fresh = post(finance_client, november_bill, body, **{"Idempotency-Key": "retry-8b21"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert changed.status_code == 409
    assert fresh.status_code == 201
    assert paid(november_bill) == Decimal("20.00")
    assert Payment.objects.count() == 2


def test_an_overlong_idempotency_key_is_refused(november_bill, finance_client):  # noqa: F811
    with travel(2026, 12, 10):
        response = post(
            finance_client,
            november_bill,
            {"amount": "1.00", "received_on": "2026-12-10"},
            **{"Idempotency-Key": "k" * 256},
        )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("received_on", "words"),
    [("2026-12-11", "不能晚于今天（2026-12-10）"), ("2020-01-01", "首份合同的开始日期（2026-01-01）")],
)
def test_the_date_received_must_be_plausible(november_bill, finance_client, received_on, words):  # noqa: F811
    november_bill.customer.contracts.update(starts_on=date(2026, 1, 1))
    with travel(2026, 12, 10):
        response = pay(finance_client, november_bill, "10.00", "CMB-DATE", received_on=received_on)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["received_on"]
    assert words in response.json()["errors"]["received_on"][0]
    assert not Payment.objects.exists()
    assert november_bill.status == Bill.Status.ISSUED
