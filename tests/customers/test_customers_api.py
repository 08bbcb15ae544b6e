"""Finance API for customers: creation, reading, updating, USCC checks and who may do what."""

from __future__ import annotations

import pytest

from customers.models import Customer, InvoiceTitle
from customers.validators import uscc_check_character

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
VALID_USCC = "9144030071526726XG"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def customer_payload(**overrides) -> dict:
    payload = {
        "code": "NEWCO",
        "name": "新公司有限公司",
        "tax_id": VALID_USCC,
        "address": "上海市徐汇区漕溪北路 1 号",
        "phone": "021-1234 5678",
        "bank_name": "招商银行上海分行",
        "bank_account": "1219 0000 0001",
        "email": "ap@newco.example.cn",
    }
    payload.update(overrides)
    return payload


def test_it_lets_finance_create_a_customer(finance_client):
    response = finance_client.post(URL, customer_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "NEWCO"
    assert body["tax_id"] == VALID_USCC
    assert body["tax_id_warning"] == ""
    customer = Customer.objects.get(code="NEWCO")
    assert customer.bank_account == "1219 0000 0001"
    # The default invoice title (发票抬头) starts as the customer's own details.
    title = InvoiceTitle.objects.get(customer=customer, is_default=True)
    assert (title.name, title.tax_id) == ("新公司有限公司", VALID_USCC)


def test_it_uppercases_the_code_and_normalizes_the_tax_id(finance_client):
    response = finance_client.post(URL, customer_payload(code="newco", tax_id=" 9144030071526726xg"), format="json")

    assert response.status_code == 201
    assert Customer.objects.get(code="NEWCO").tax_id == VALID_USCC


def test_it_accepts_a_blank_tax_id(finance_client):
    response = finance_client.post(URL, customer_payload(tax_id=""), format="json")

    assert response.status_code == 201
    assert Customer.objects.get(code="NEWCO").tax_id == ""


def test_it_refuses_customer_creation_to_everyone_but_finance(
    alice_client, bob_client, charlie_client, gateway_client, client
):
    for api_client in (alice_client, bob_client, charlie_client, gateway_client):
        assert api_client.post(URL, customer_payload(), format="json").status_code == 403
    assert client.post(URL, customer_payload(), content_type="application/json").status_code == 401
    assert not Customer.objects.filter(code="NEWCO").exists()


def test_it_rejects_a_duplicate_code_naming_code(finance_client, acme):
    before = Customer.objects.count()

    response = finance_client.post(URL, customer_payload(code="acme"), format="json", **EN)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["code"]
    assert "ACME already exists" in response.json()["errors"]["code"][0]
    assert Customer.objects.count() == before


def test_it_rejects_a_malformed_code(finance_client):
    response = finance_client.post(URL, customer_payload(code="新 公司"), format="json")

    assert response.status_code == 400
    assert "code" in response.json()["errors"]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("tax_id", "message"),
    [
        ("9144030071526726X0", "check character"),
        ("9144030071526726XS", "not allowed"),
        ("9144030071526726O1", "not allowed"),
        ("9144030071526726X", "18 characters"),
    ],
)
def test_it_rejects_a_bad_uscc_naming_tax_id(finance_client, tax_id, message):
    response = finance_client.post(URL, customer_payload(tax_id=tax_id), format="json", **EN)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tax_id"]
    assert message in response.json()["errors"]["tax_id"][0]
    assert Customer.objects.count() == 0
    assert InvoiceTitle.objects.count() == 0


def test_it_accepts_a_bad_uscc_when_staff_override_it(finance_client, finance_user):
    response = finance_client.post(
        URL, customer_payload(tax_id="9144030071526726X0", tax_id_override=True), format="json", **EN
    )

    assert response.status_code == 201
    assert "accepted by staff" in response.json()["tax_id_warning"]
    customer = Customer.objects.get(code="NEWCO")
    assert customer.tax_id == "9144030071526726X0"
    assert customer.tax_id_override is True
    assert customer.tax_id_override_by == finance_user


def test_it_does_not_mark_a_valid_uscc_as_overridden(finance_client):
    response = finance_client.post(URL, customer_payload(tax_id_override=True), format="json")

    assert response.status_code == 201
    assert Customer.objects.get(code="NEWCO").tax_id_override is False


@pytest.mark.parametrize("tax_id", ["440301192203821", "44030119220382100001"])
def test_it_accepts_a_legacy_taxpayer_number_with_a_warning(finance_client, tax_id):
    response = finance_client.post(URL, customer_payload(tax_id=tax_id), format="json", **EN)

    assert response.status_code == 201
    assert "Legacy 15/20-character" in response.json()["tax_id_warning"]
    assert Customer.objects.get(code="NEWCO").tax_id == tax_id


def test_it_lists_every_customer_to_finance_and_only_their_own_to_portal_users(
    finance_client, alice_client, bob_client, charlie_client, acme, other_customer
):
    assert [c["code"] for c in finance_client.get(URL).json()] == ["ACME", "OTHER"]
    assert [c["code"] for c in alice_client.get(URL).json()] == ["ACME"]
    assert [c["code"] for c in bob_client.get(URL).json()] == ["ACME"]
    assert [c["code"] for c in charlie_client.get(URL).json()] == ["OTHER"]


def test_it_refuses_the_list_to_anonymous_and_the_gateway(client, gateway_client, acme):
    assert client.get(URL).status_code == 401
    assert gateway_client.get(URL).status_code == 403


def test_it_shows_a_customer_to_its_own_users_and_404_to_others(
    finance_client, alice_client, bob_client, charlie_client, gateway_client, client, acme
):
    url = f"{URL}ACME/"

    assert finance_client.get(url).json()["name"] == acme.name
    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 200
    assert charlie_client.get(url).status_code == 404
    assert gateway_client.get(url).status_code == 403
    assert client.get(url).status_code == 401
    assert finance_client.get(f"{URL}NOPE/").status_code == 404


def test_it_lets_only_finance_update_a_customer(finance_client, alice_client, bob_client, charlie_client, acme):
    url = f"{URL}ACME/"

    assert alice_client.patch(url, {"phone": "1"}, format="json").status_code == 403
    assert bob_client.patch(url, {"phone": "2"}, format="json").status_code == 403
    assert charlie_client.patch(url, {"phone": "3"}, format="json").status_code == 404
    response = finance_client.patch(url, {"phone": "021-0000 0000"}, format="json")

    assert response.status_code == 200
    acme.refresh_from_db()
    assert acme.phone == "021-0000 0000"


def test_it_checks_the_uscc_on_update_too(finance_client, finance_user, acme):
    url = f"{URL}ACME/"
    good = acme.tax_id

    response = finance_client.patch(url, {"tax_id": good[:-1] + ("0" if good[-1] != "0" else "1")}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tax_id"]
    acme.refresh_from_db()
    assert acme.tax_id == good

    response = finance_client.patch(url, {"tax_id": "N2110000MA0000000X", "tax_id_override": True}, format="json")

    assert response.status_code == 200
    acme.refresh_from_db()
    assert acme.tax_id == "N2110000MA0000000X"
    assert acme.tax_id_override_by == finance_user


def test_it_does_not_let_an_update_change_the_code(finance_client, acme):
    response = finance_client.patch(f"{URL}ACME/", {"code": "HIJACK"}, format="json")

    assert response.status_code == 200
    assert Customer.objects.filter(code="ACME").exists()
    assert not Customer.objects.filter(code="HIJACK").exists()


def test_it_creates_customers_whose_first17_are_valid_in_any_alphabet_position(finance_client):
    first17 = "Y1310000MA1FL8XQ3"  # registration authority Y (other), not all digits

    tax_id = first17 + uscc_check_character(first17)
    response = finance_client.post(URL, customer_payload(tax_id=tax_id), format="json")

    assert response.status_code == 201
    assert Customer.objects.get(code="NEWCO").tax_id == tax_id
