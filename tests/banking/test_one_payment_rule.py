"""One set of payment checks (issue 24, item 4): a bill that takes no payment and an amount
that is not one are refused in the same words by the API, the admin's payment form and bank
matching — all three ask billing.bills.lifecycle (``payment_refusal``, ``payment_record``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from banking.models import BankTransaction
from banking.services import statement_import, transaction_match
from billing.bills.lifecycle import deposit_record, payment_record, payment_refusal
from billing.models import Bill, Payment
from common.errors import Conflict
from tests.banking.conftest import COLUMNS, csv_bytes
from tests.billing.close_helpers import travel
from tests.factories import UserFactory

PAID_EN = "BILL-ACME-202610 is Paid: it takes no more payments."


@pytest.fixture
def paid_october(ledger):
    with travel(2026, 12, 20):
        payment_record(
            bill=ledger.october, amount=Decimal("5300.00"), received_on=ledger.october.issued_on, reference="PAID-1"
        )
    ledger.october.refresh_from_db()
    assert ledger.october.status == Bill.Status.PAID
    return ledger.october


@pytest.fixture
def clerk_client(db) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.clerk = UserFactory(username="fiona", is_staff=True, groups=["finance"])
    return client


def _admin_payment(clerk_client, bill: Bill, amount: str, reference: str):
    with travel(2026, 12, 20):
        clerk_client.force_login(clerk_client.clerk)  # a session of the travelled-to day
        return clerk_client.post(
            reverse("admin:billing_payment_add"),
            {
                "bill": bill.pk,
                "amount_value": amount,
                "received_on": "2026-12-19",
                "reference": reference,
                "payer_name": "",
                "note": "",
            },
        )


def _api_payment(finance_client, bill: Bill, amount: str, reference: str):
    with travel(2026, 12, 20):
        return finance_client.post(
            f"/api/v1/bills/{bill.number}/payments/",
            {"amount": amount, "received_on": "2026-12-19", "reference": reference},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )


def test_a_paid_bill_is_refused_in_the_same_words_by_the_api_the_admin_and_bank_matching(
    paid_october, finance_client, clerk_client
):
    with translation.override("en"):
        assert payment_refusal(paid_october) == PAID_EN
    with travel(2026, 12, 20):
        statement_import(
            file_name="s.csv",
            content=csv_bytes([["2026-12-19", "100.00", "", "某公司", "", "BILL-ACME-202610", "LATE-1"]]),
            format="csv",
            columns=COLUMNS,
        )
    txn = BankTransaction.objects.get(bank_reference="LATE-1")

    api = _api_payment(finance_client, paid_october, "100.00", "LATE-API")
    admin = _admin_payment(clerk_client, paid_october, "100.00", "LATE-ADMIN")
    with travel(2026, 12, 20), translation.override("en"), pytest.raises(Conflict) as matched:
        transaction_match(txn=txn, bills=[paid_october])

    assert (api.status_code, api.json()["detail"]) == (409, PAID_EN)
    assert admin.status_code == 200
    assert admin.context["adminform"].form.errors == {"bill": [PAID_EN]}
    assert str(matched.value) == PAID_EN
    assert Payment.objects.filter(bill=paid_october).count() == 1  # only the payment that paid it


def test_a_draft_bill_is_refused_by_the_same_function(ledger):
    Bill.objects.filter(pk=ledger.november.pk).update(status=Bill.Status.DRAFT)
    ledger.november.refresh_from_db()

    with translation.override("en"):
        refusal = payment_refusal(ledger.november)
        with travel(2026, 12, 20), pytest.raises(Conflict) as refused:
            payment_record(
                bill=ledger.november, amount=Decimal("1.00"), received_on=ledger.november.issued_on, reference="X"
            )

    assert refusal.startswith("BILL-ACME-202611 is a draft: it takes payments once it is issued")
    assert str(refused.value) == refusal


def test_a_zero_amount_is_refused_in_the_same_words_by_the_api_and_the_admin(ledger, finance_client, clerk_client):
    api = _api_payment(finance_client, ledger.november, "0.00", "ZERO-API")
    admin = _admin_payment(clerk_client, ledger.november, "0.00", "ZERO-ADMIN")

    assert api.status_code == 400
    assert api.json()["errors"] == {"amount": ["The amount must be greater than zero."]}
    assert admin.status_code == 200
    assert admin.context["adminform"].form.errors == {"amount_value": ["The amount must be greater than zero."]}
    assert not Payment.objects.filter(bill=ledger.november).exists()


def test_a_future_transfer_is_refused_for_a_bill_and_for_a_deposit_alike(ledger):
    with travel(2026, 12, 20), translation.override("en"):
        with pytest.raises(ValidationError) as for_bill:
            payment_record(
                bill=ledger.november, amount=Decimal("1.00"), received_on=date(2026, 12, 21), reference="F-1"
            )
        with pytest.raises(ValidationError) as for_deposit:
            deposit_record(
                customer=ledger.acme, amount=Decimal("1.00"), received_on=date(2026, 12, 21), reference="F-2"
            )

    expected = {"received_on": ["The transfer cannot be received after today (2026-12-20)."]}
    assert for_bill.value.message_dict == expected
    assert for_deposit.value.message_dict == expected
