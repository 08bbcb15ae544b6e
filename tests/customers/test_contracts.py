"""Contracts: terms, validation naming the field, at most one active contract at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers import services
from customers.models import Contract
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def url(code: str = "ACME") -> str:
    return f"/api/v1/customers/{code}/contracts/"


def contract_payload(**overrides) -> dict:
    # The acme fixture's own contract (HT-ACME-1) is active from 2026-01-01, open-ended,
    # so a new one must end before that to be accepted as active.
    payload = {
        "number": "HT-ACME-2025",
        "starts_on": "2025-01-01",
        "ends_on": "2025-12-31",
        "payment_terms_days": 45,
        "price_currency": "USD",
        "discount_percent": "7.50",
        "fixed_exchange_rate": None,
        "minimum_monthly_commitment": "1000.00",
        "vat_rate": "0.06",
        "invoice_type": "special",
        "bill_per_project": True,
    }
    payload.update(overrides)
    return payload


def test_it_lets_finance_create_a_contract(finance_client, acme):
    response = finance_client.post(url(), contract_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["customer"] == "ACME"
    assert body["status"] == "active"
    assert body["minimum_monthly_commitment"] == "1000.00"
    assert body["currency"] == "CNY"
    assert body["discount_percent"] == "7.50"
    contract = Contract.objects.get(number="HT-ACME-2025")
    assert contract.customer == acme
    assert contract.payment_terms_days == 45
    assert contract.discount_percent == Decimal("7.50")
    assert contract.minimum_monthly_commitment.amount == Decimal("1000.00")
    assert contract.bill_per_project is True


def test_it_defaults_vat_to_six_percent(finance_client, acme):
    payload = contract_payload()
    del payload["vat_rate"], payload["minimum_monthly_commitment"]

    response = finance_client.post(url(), payload, format="json")

    assert response.status_code == 201
    contract = Contract.objects.get(number="HT-ACME-2025")
    assert contract.vat_rate == Decimal("0.06")
    assert contract.minimum_monthly_commitment.amount == Decimal("0")


def test_it_lets_only_finance_create_contracts(alice_client, bob_client, charlie_client, gateway_client, client, acme):
    before = Contract.objects.count()

    assert alice_client.post(url(), contract_payload(), format="json").status_code == 403
    assert bob_client.post(url(), contract_payload(), format="json").status_code == 403
    assert charlie_client.post(url(), contract_payload(), format="json").status_code == 404
    assert gateway_client.post(url(), contract_payload(), format="json").status_code == 403
    assert client.post(url(), contract_payload(), content_type="application/json").status_code == 401
    assert Contract.objects.count() == before


def test_it_shows_contracts_to_finance_and_the_customers_admin_only(
    finance_client, alice_client, bob_client, charlie_client, gateway_client, client, acme
):
    assert [c["number"] for c in finance_client.get(url()).json()] == ["HT-ACME-1"]
    assert [c["number"] for c in alice_client.get(url()).json()] == ["HT-ACME-1"]
    assert bob_client.get(url()).status_code == 403  # a developer does not see commercial terms
    assert charlie_client.get(url()).status_code == 404
    assert gateway_client.get(url()).status_code == 403
    assert client.get(url()).status_code == 401


def test_it_shows_one_contract_only_under_its_own_customer(
    finance_client, alice_client, charlie_client, acme, other_customer
):
    assert finance_client.get(url() + "HT-ACME-1/").json()["number"] == "HT-ACME-1"
    assert alice_client.get(url() + "HT-ACME-1/").status_code == 200
    assert charlie_client.get(url() + "HT-ACME-1/").status_code == 404
    assert finance_client.get(url() + "HT-OTHER-1/").status_code == 404
    assert alice_client.get(url("OTHER") + "HT-OTHER-1/").status_code == 404


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        ("2026-06-01", "2026-12-31"),  # inside the open-ended active contract
        ("2025-06-01", None),  # open-ended, reaching into it
        ("2025-06-01", "2026-01-01"),  # ends on its first day: dates are inclusive
    ],
)
def test_it_rejects_dates_overlapping_an_active_contract(finance_client, acme, starts_on, ends_on):
    before = Contract.objects.count()

    response = finance_client.post(url(), contract_payload(starts_on=starts_on, ends_on=ends_on), format="json", **EN)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["starts_on"]
    assert "HT-ACME-1" in response.json()["errors"]["starts_on"][0]
    assert Contract.objects.count() == before


def test_it_accepts_an_overlapping_draft_but_refuses_to_activate_it(finance_client, acme):
    response = finance_client.post(
        url(), contract_payload(starts_on="2026-06-01", ends_on=None, status="draft"), format="json"
    )

    assert response.status_code == 201
    draft = Contract.objects.get(number="HT-ACME-2025")
    with pytest.raises(ValidationError) as excinfo:
        services.contract_set_status(contract=draft, status=Contract.Status.ACTIVE)
    assert "status" in excinfo.value.message_dict
    draft.refresh_from_db()
    assert draft.status == Contract.Status.DRAFT


def test_it_allows_overlapping_dates_for_different_customers(finance_client, acme, other_customer):
    response = finance_client.post(
        url("OTHER"), contract_payload(number="HT-OTHER-2", starts_on="2026-03-01", ends_on=None), format="json"
    )

    # OTHER's own active contract also starts 2026-01-01, so this one clashes with OTHER's …
    assert response.status_code == 400
    # … but ending the existing one frees the dates, whatever ACME has.
    services.contract_set_status(contract=Contract.objects.get(number="HT-OTHER-1"), status=Contract.Status.ENDED)
    response = finance_client.post(
        url("OTHER"), contract_payload(number="HT-OTHER-2", starts_on="2026-03-01", ends_on=None), format="json"
    )
    assert response.status_code == 201
    stored = Contract.objects.get(number="HT-OTHER-2")
    assert (stored.customer.code, stored.status, stored.starts_on) == (
        "OTHER",
        Contract.Status.ACTIVE,
        date(2026, 3, 1),
    )


def test_it_rejects_a_duplicate_contract_number(finance_client, acme):
    response = finance_client.post(url(), contract_payload(number="HT-ACME-1"), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["number"]
    assert Contract.objects.filter(number="HT-ACME-1").count() == 1


def test_it_rejects_an_end_before_the_start(finance_client, acme):
    response = finance_client.post(url(), contract_payload(starts_on="2025-06-01", ends_on="2025-05-31"), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["ends_on"]
    assert not Contract.objects.filter(number="HT-ACME-2025").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payment_terms_days", -1),
        ("payment_terms_days", 366),
        ("discount_percent", "-0.01"),
        ("discount_percent", "100.01"),
        ("minimum_monthly_commitment", "-1.00"),
        ("vat_rate", "-0.01"),
        ("vat_rate", "1.01"),
        ("fixed_exchange_rate", "0"),
        ("price_currency", "EUR"),
        ("invoice_type", "receipt"),
    ],
)
def test_it_rejects_bad_terms_naming_the_field(finance_client, acme, field, value):
    before = Contract.objects.count()

    response = finance_client.post(url(), contract_payload(**{field: value}), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert Contract.objects.count() == before


@pytest.mark.parametrize("discount", ["0", "100"])
def test_it_accepts_the_discount_bounds(finance_client, acme, discount):
    response = finance_client.post(url(), contract_payload(discount_percent=discount), format="json")

    assert response.status_code == 201
    assert Contract.objects.get(number="HT-ACME-2025").discount_percent == Decimal(discount)


def test_it_has_a_database_backstop_against_overlapping_active_contracts(acme):
    with pytest.raises(IntegrityError, match="contract_active_no_overlap"), transaction.atomic():
        Contract.objects.create(
            customer=acme, number="HT-BYPASS", starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 31)
        )

    assert not Contract.objects.filter(number="HT-BYPASS").exists()


def test_it_lets_the_backstop_ignore_inactive_and_disjoint_contracts(acme):
    ContractFactory(customer=acme, number="HT-DRAFT", starts_on=date(2026, 7, 1), status=Contract.Status.DRAFT)
    ContractFactory(customer=acme, number="HT-OLD", starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))

    assert Contract.objects.filter(customer=acme).count() == 3


def test_it_turns_the_backstop_into_a_400_when_the_service_check_is_raced(finance_client, acme):
    # As if another transaction had created the clashing contract after our check.
    with mock.patch("customers.services.contracts_overlapping_active", return_value=Contract.objects.none()):
        response = finance_client.post(url(), contract_payload(starts_on="2026-06-01", ends_on=None), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["starts_on"]
    assert not Contract.objects.filter(number="HT-ACME-2025").exists()
