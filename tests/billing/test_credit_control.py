"""Credit control (授信, issue 12 item 2): the allowance refuses with ``overdue`` when a bill is
overdue longer than the contract allows and with ``credit_limit`` when unpaid bills plus this
month's spend reach the limit — after ``revoked`` and ``no_contract``, before ``hard_limit`` —
from the same one query; customers and finance are alerted at 80 % and 100 % once a period;
a payment lifts the refusal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from djmoney.money import Money

from billing.bills.lifecycle import payment_record
from billing.budgets.budgets import budget_create, budgets_evaluate_all, budgets_evaluate_customer
from billing.budgets.feed import alert_summary
from billing.models import Alert, Bill, CustomerStanding
from customers.models import Contract
from customers.services import api_key_revoke
from tests.billing.alerts_helpers import ingest_committed, meter_price, spend
from tests.billing.helpers import shanghai
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)
NOW = shanghai(2026, 11, 20, 12)


@pytest.fixture(autouse=True)
def _noon_on_20_november():
    with time_machine.travel(NOW, tick=False):
        yield


def allowance(client, key) -> dict:
    answer = client.get(f"/api/v1/api-keys/{key.key_id}/allowance/")
    assert answer.status_code == 200, answer.content
    return answer.json()


def terms(customer, **values):
    Contract.objects.filter(customer=customer).update(**values)


def unpaid_bill(customer, total: str, *, due_on: date, period: date = date(2026, 10, 1)) -> Bill:
    return Bill.objects.create(
        customer=customer,
        period=period,
        status=Bill.Status.ISSUED,
        subtotal=Money(total, "CNY"),
        total=Money(total, "CNY"),
        issued_on=date(2026, 11, 1),
        due_on=due_on,
    )


def evaluate(customer):
    return budgets_evaluate_customer(customer_id=customer.pk, now=NOW)


def test_unpaid_bills_plus_this_months_spend_reaching_the_limit_refuse_calls(
    gateway_client, acme, acme_key, django_capture_on_commit_callbacks
):
    meter_price()
    terms(acme, credit_limit=Decimal("1000.00"))
    unpaid_bill(acme, "800.00", due_on=date(2026, 12, 1))
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "199.99", TODAY)])
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["allowed"] is True  # 999.99 < 1000.00

    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "0.01", TODAY)])
    evaluate(acme)
    answer = allowance(gateway_client, acme_key)
    assert (answer["allowed"], answer["reason"]) == (False, "credit_limit")
    standing = CustomerStanding.objects.get(customer=acme)
    assert (standing.unpaid, standing.month_to_date, standing.credit_limit) == (
        Decimal("800.00"),
        Decimal("200.00"),
        Decimal("1000.00"),
    )


def test_alerts_at_80_and_100_percent_once_a_period_to_the_customer_and_finance(
    acme, acme_key, django_capture_on_commit_callbacks
):
    UserFactory(username="fin", email="ar@reseller.example.cn", groups=["finance"])
    acme.email = "ap@acme.example.cn"
    acme.save()
    meter_price()
    terms(acme, credit_limit=Decimal("1000.00"))
    unpaid_bill(acme, "850.00", due_on=date(2026, 12, 1))
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(acme)
        evaluate(acme)
    assert list(Alert.objects.values_list("kind", "threshold")) == [("credit", 80)]
    with django_capture_on_commit_callbacks(execute=True):
        ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "150", TODAY)])
        evaluate(acme)
        evaluate(acme)
    assert sorted(Alert.objects.values_list("threshold", flat=True)) == [80, 100]
    full = Alert.objects.get(threshold=100)
    assert full.amount == Decimal("1000.00")
    assert sorted(d.channel for d in full.deliveries.all()) == ["ap@acme.example.cn", "ar@reseller.example.cn"]
    assert alert_summary(full) == (
        "上海阿克米信息技术有限公司 已用授信额度 ¥1,000.00 的 100%：未付账单 ¥850.00，本月已用 ¥150.00（合计 ¥1,000.00）。"
        " 在付款使其低于额度之前，API 调用将被拒绝。"
    )
    assert {tuple(m.to) for m in mail.outbox} == {("ap@acme.example.cn",), ("ar@reseller.example.cn",)}


def test_a_bill_overdue_longer_than_allowed_suspends_the_customer(gateway_client, acme, acme_key):
    terms(acme, suspend_after_overdue_days=15)
    unpaid_bill(acme, "10.00", due_on=date(2026, 11, 5))  # 15 days overdue on the 20th: not yet
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["allowed"] is True
    Bill.objects.update(due_on=date(2026, 11, 4))  # 16 days
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["reason"] == "overdue"


def test_the_reasons_come_in_the_contracts_order(gateway_client, acme, acme_key, django_capture_on_commit_callbacks):
    meter_price()
    with django_capture_on_commit_callbacks(execute=True):
        budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("100"), hard_limit=True)
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "150", TODAY)])
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["reason"] == "hard_limit"

    terms(acme, credit_limit=Decimal("100.00"))
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["reason"] == "credit_limit"  # before hard_limit

    terms(acme, suspend_after_overdue_days=0)
    unpaid_bill(acme, "1.00", due_on=date(2026, 11, 10))
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["reason"] == "overdue"  # before credit_limit

    Contract.objects.filter(customer=acme).update(status=Contract.Status.TERMINATED)
    assert allowance(gateway_client, acme_key)["reason"] == "no_contract"  # before overdue

    api_key_revoke(key=acme_key)
    assert allowance(gateway_client, acme_key)["reason"] == "revoked"


def test_a_payment_lifts_the_refusal(gateway_client, finance_user, acme, acme_key, django_capture_on_commit_callbacks):
    terms(acme, credit_limit=Decimal("500.00"))
    bill = unpaid_bill(acme, "600.00", due_on=date(2026, 12, 1))
    evaluate(acme)
    assert allowance(gateway_client, acme_key)["reason"] == "credit_limit"
    with django_capture_on_commit_callbacks(execute=True):  # the payment asks for an evaluation on commit
        payment_record(bill=bill, amount=Decimal("200.00"), received_on=TODAY, reference="CMB-1", actor=finance_user)
    assert allowance(gateway_client, acme_key)["allowed"] is True


def test_the_sweep_evaluates_customers_with_credit_terms_but_no_budget(gateway_client, acme, acme_key):
    terms(acme, credit_limit=Decimal("5.00"))
    unpaid_bill(acme, "6.00", due_on=date(2026, 12, 1))
    budgets_evaluate_all(now=NOW)
    assert allowance(gateway_client, acme_key)["reason"] == "credit_limit"


def test_the_allowance_still_answers_from_two_queries(gateway_client, acme, acme_key, django_assert_num_queries):
    terms(acme, credit_limit=Decimal("5.00"))
    evaluate(acme)
    gateway_client.get(f"/api/v1/api-keys/{acme_key.key_id}/allowance/")  # first use touches the token
    with django_assert_num_queries(2):
        assert gateway_client.get(f"/api/v1/api-keys/{acme_key.key_id}/allowance/").status_code == 200


def test_a_deposit_is_a_payment_held_as_credit_never_applied_to_a_bill(finance_client, finance_user, acme):
    from billing.bills.close import _apply_credit
    from billing.models import CreditEntry, Payment
    from customers.models import AuditEvent

    body = {"amount": "20000.00", "received_on": "2026-11-18", "reference": "CMB-押金-1"}
    first = finance_client.post("/api/v1/customers/ACME/deposits/", body, format="json")
    again = finance_client.post("/api/v1/customers/ACME/deposits/", {**body, "reference": "cmb-押金-1"}, format="json")
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.json() == first.json()
    assert first.json() | {"id": 0} == {
        "id": 0,
        "customer": "ACME",
        "method": "deposit",
        "amount": "20000.00",
        "currency": "CNY",
        "received_on": "2026-11-18",
        "reference": "CMB-押金-1",
        "held": True,
    }
    payment = Payment.objects.get()
    assert (payment.bill, payment.method, payment.recorded_by) == (None, "deposit", finance_user)
    assert [(e.amount.amount, e.held) for e in CreditEntry.objects.all()] == [(Decimal("20000.00"), True)]
    assert AuditEvent.objects.filter(action="deposit_recorded", actor=finance_user).count() == 1

    bill = unpaid_bill(acme, "100.00", due_on=date(2026, 12, 1))
    assert _apply_credit(bill) is False  # held: the bill stays unpaid
    assert finance_client.get("/api/v1/customers/ACME/deposits/").json() == [first.json()]


def test_a_deposit_needs_a_reference_and_a_positive_amount(finance_client, acme, alice_client):
    url = "/api/v1/customers/ACME/deposits/"
    no_ref = finance_client.post(url, {"amount": "1.00", "received_on": "2026-11-18"}, format="json")
    assert list(no_ref.json()["errors"]) == ["reference"]
    negative = finance_client.post(url, {"amount": "-1", "received_on": "2026-11-18", "reference": "X"}, format="json")
    assert list(negative.json()["errors"]) == ["amount"]
    assert (
        alice_client.post(
            url, {"amount": "1", "received_on": "2026-11-18", "reference": "Y"}, format="json"
        ).status_code
        == 403
    )
