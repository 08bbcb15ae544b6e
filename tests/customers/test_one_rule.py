"""One check, one default (issue 24, item 4): the contract-overlap check answers the API,
the admin and an activation in the same words; the 6 % VAT default is one constant that the
API, the admin, presales and the close all take."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from billing.models import SellerProfile
from common.vat import DEFAULT_VAT_RATE
from customers import services
from customers.models import Contract
from presales.api import EstimateRequestSerializer
from presales.forms import IntakeForm
from presales.models import Estimate
from presales.rules import EstimateInput
from tests.factories import ContractFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# ACME's contract HT-ACME-1 (tests/conftest.py) is active from 2026-01-01, open-ended.
OVERLAP_EN = "These dates overlap the active contract HT-ACME-1 (2026-01-01 – …)."


@pytest.fixture
def clerk_client(db) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(username="fiona", is_staff=True, groups=["finance"]))
    return client


def _admin_contract_form(clerk_client, acme, **fields) -> dict:
    data = {
        "customer": acme.pk,
        "number": "HT-ACME-2",
        "status": "active",
        "starts_on": "2026-06-01",
        "ends_on": "",
        "payment_terms_days": "30",
        "price_currency": "USD",
        "discount_percent": "0",
        "vat_rate": "0.06",
        "invoice_type": "special",
        "invoice_timing": "before_payment",
        "minimum_monthly_commitment_0": "0",
        "minimum_monthly_commitment_1": "CNY",
    }
    data.update(fields)
    return data


def test_the_api_and_the_admin_refuse_an_overlapping_contract_in_the_same_words(finance_client, acme, clerk_client):
    api = finance_client.post(
        f"/api/v1/customers/{acme.code}/contracts/",
        {"number": "HT-ACME-2", "starts_on": "2026-06-01", "price_currency": "USD"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    admin = clerk_client.post(reverse("admin:customers_contract_add"), _admin_contract_form(clerk_client, acme))

    assert api.status_code == 400
    assert api.json()["errors"] == {"starts_on": [OVERLAP_EN]}
    assert admin.status_code == 200  # the form again, with the error beside the field
    assert admin.context["adminform"].form.errors == {"starts_on": [OVERLAP_EN]}
    assert not Contract.objects.filter(number="HT-ACME-2").exists()


def test_activating_an_overlapping_draft_is_refused_with_the_same_message(acme):
    draft = ContractFactory(customer=acme, number="HT-ACME-2", starts_on="2026-06-01", status=Contract.Status.DRAFT)

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.contract_set_status(contract=draft, status=Contract.Status.ACTIVE)

    assert refused.value.message_dict == {"status": [OVERLAP_EN]}
    draft.refresh_from_db()
    assert draft.status == Contract.Status.DRAFT


def test_the_admin_accepts_an_active_contract_that_ends_before_the_other_starts(clerk_client, acme):
    data = _admin_contract_form(clerk_client, acme, starts_on="2025-01-01", ends_on="2025-12-31")

    response = clerk_client.post(reverse("admin:customers_contract_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Contract.objects.get(number="HT-ACME-2").status == Contract.Status.ACTIVE


# --- The VAT default -----------------------------------------------------------------------


def test_the_vat_default_is_6_percent(db):
    assert Decimal("6") / 100 == DEFAULT_VAT_RATE


def test_a_contract_made_through_the_api_without_a_vat_rate_takes_the_default(finance_client, acme):
    response = finance_client.post(
        f"/api/v1/customers/{acme.code}/contracts/",
        {"number": "HT-ACME-2025", "starts_on": "2025-01-01", "ends_on": "2025-12-31", "price_currency": "USD"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Contract.objects.get(number="HT-ACME-2025").vat_rate == DEFAULT_VAT_RATE


def test_the_admin_offers_the_default_for_a_new_contract_and_seller_profile(clerk_client):
    contract = clerk_client.get(reverse("admin:customers_contract_add"))
    seller = clerk_client.get(reverse("admin:billing_sellerprofile_add"))

    assert contract.context["adminform"].form["vat_rate"].value() == DEFAULT_VAT_RATE
    assert seller.context["adminform"].form["vat_rate"].value() == DEFAULT_VAT_RATE


def test_presales_takes_the_default_in_the_api_the_form_the_rules_and_the_model():
    assert EstimateRequestSerializer().fields["vat_rate"].default == DEFAULT_VAT_RATE
    assert IntakeForm().fields["vat_rate"].initial == DEFAULT_VAT_RATE
    assert EstimateInput.__dataclass_fields__["vat_rate"].default == DEFAULT_VAT_RATE
    assert Estimate._meta.get_field("vat_rate").default == DEFAULT_VAT_RATE
    assert SellerProfile._meta.get_field("vat_rate").default == DEFAULT_VAT_RATE


def test_no_module_writes_the_vat_default_again():
    """The 6 % is written once (common/vat.py); migrations keep their frozen copies."""
    apps = ["billing", "banking", "common", "customers", "gateways", "invoices", "portal", "presales", "workspace"]
    literal = re.compile(r"""["']0\.06["']""")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for app in apps
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path.name != "vat.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []
