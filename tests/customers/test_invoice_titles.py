"""发票抬头: validated, special invoices need a tax id, address/phone and bank/account in pairs."""

import pytest

from customers.models import InvoiceTitle
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/ACME/invoice-titles/"


def title(**fields):
    return {"name": "上海阿克米信息技术有限公司", "tax_id": valid_uscc(7), "invoice_type": "special", **fields}


def test_it_lets_the_customer_admin_add_a_title_that_becomes_the_default(alice_client, acme):
    response = alice_client.post(URL, title(address="上海市浦东新区", phone="021-1", is_default=True), format="json")

    assert response.status_code == 201, response.json()
    assert acme.invoice_titles.get(is_default=True).address == "上海市浦东新区"
    assert acme.invoice_titles.filter(is_default=True).count() == 1


def test_it_refuses_a_special_invoice_title_without_a_tax_id(finance_client, acme):
    response = finance_client.post(URL, title(tax_id=""), format="json")

    assert response.status_code == 400
    assert "tax_id" in response.json()["errors"]


def test_it_refuses_a_bad_check_character_unless_finance_overrides_it(alice_client, finance_client, acme):
    bad = valid_uscc(7)[:-1] + ("0" if valid_uscc(7)[-1] != "0" else "1")

    assert "tax_id" in alice_client.post(URL, title(tax_id=bad), format="json").json()["errors"]
    refused = alice_client.post(URL, title(tax_id=bad, tax_id_override=True), format="json")
    assert refused.status_code == 400 and "tax_id_override" in refused.json()["errors"]
    accepted = finance_client.post(URL, title(tax_id=bad, tax_id_override=True), format="json")
    assert accepted.status_code == 201
    assert InvoiceTitle.objects.get(pk=accepted.json()["id"]).tax_id_override is True


@pytest.mark.parametrize("fields,missing", [({"address": "上海"}, "phone"), ({"bank_account": "123"}, "bank_name")])
def test_it_wants_printed_pairs_complete(finance_client, acme, fields, missing):
    response = finance_client.post(URL, title(**fields), format="json")

    assert response.status_code == 400
    assert missing in response.json()["errors"]


def test_it_keeps_titles_to_their_customer(bob_client, charlie_client, acme):
    assert bob_client.get(URL).status_code == 403  # developer
    assert charlie_client.get(URL).status_code == 404  # another customer
