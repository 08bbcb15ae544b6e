"""Text printed on a 发票 (names, addresses, phones, bank details): control and format
characters are refused naming the field, and the text is stored in NFC, trimmed (issue 16
item 5) — through the API, the services and therefore the admin and portal forms."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from customers import services
from customers.fields import PrintableValidator, printable
from customers.models import Customer, InvoiceTitle
from tests.customers.test_customers_api import customer_payload
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db
TITLES = "/api/v1/customers/ACME/invoice-titles/"


def title(**fields):
    return {"name": "上海阿克米信息技术有限公司", "tax_id": valid_uscc(7), "invoice_type": "special", **fields}


@pytest.mark.parametrize("field", ["name", "address", "bank_name"])
@pytest.mark.parametrize("character", ["\x01", "\x19", "\u202e", "\u200b"])
def test_an_invoice_title_refuses_invisible_characters_naming_the_field(finance_client, acme, field, character):
    fields = {"address": "上海市浦东新区", "phone": "021-1", "bank_name": "招商银行", "bank_account": "1219"}
    fields[field] = fields.get(field, "上海阿克米") + character + "有限公司"
    before = InvoiceTitle.objects.count()

    response = finance_client.post(TITLES, title(**fields), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert f"U+{ord(character):04X}" in errors[field][0]
    assert InvoiceTitle.objects.count() == before


def test_an_invoice_title_is_stored_in_nfc_and_trimmed(finance_client, acme):
    decomposed = unicodedata.normalize("NFD", "Café Ünïon 上海有限公司")
    assert decomposed != unicodedata.normalize("NFC", decomposed)

    response = finance_client.post(TITLES, title(name=f"  {decomposed} "), format="json")

    assert response.status_code == 201, response.json()
    stored = InvoiceTitle.objects.get(pk=response.json()["id"]).name
    assert stored == "Café Ünïon 上海有限公司"
    assert unicodedata.is_normalized("NFC", stored)


def test_a_customer_refuses_a_control_character_in_its_bank_account(finance_client):
    response = finance_client.post("/api/v1/customers/", customer_payload(bank_account="1219\x000001"), format="json")
    assert response.status_code == 400
    assert "bank_account" in response.json()["errors"]
    assert not Customer.objects.filter(code="NEWCO").exists()


def test_the_service_refuses_it_too(acme):
    with pytest.raises(ValidationError) as refused:
        services.customer_update(customer=acme, address="上海\x01市")
    assert list(refused.value.message_dict) == ["address"]


@given(st.text(max_size=40))
def test_printable_text_is_nfc_and_never_refused_after_removing_controls(text):
    cleaned = printable("".join(ch for ch in text if unicodedata.category(ch)[0] != "C"))
    assert unicodedata.is_normalized("NFC", cleaned)
    PrintableValidator()(cleaned)
    assert printable(cleaned) == cleaned
