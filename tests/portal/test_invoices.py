"""Invoices: the list shows the invoice API's figures, the PDF is the invoice's; an invoice
request has the API's effect; invoice titles are checked (USCC) by the API's service, with
its refusals beside the field in the reader's language, and one default."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from common.admin_display import money_text
from customers.models import InvoiceTitle
from invoices.models import InvoiceRequest
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, alice, acme_world):
    client.force_login(alice)
    return client


def test_its_list_shows_the_invoice_apis_figures(signed_in, alice_client, acme_world):
    (api,) = alice_client.get("/api/v1/invoices/").json()

    html = signed_in.get("/portal/invoices/").content.decode()

    row = re.search(rf'<tr data-number="{api["number"]}".*?</tr>', html, re.S).group(0)
    for field in ("amount", "vat", "total"):
        assert f'<td class="num {field}">{money_text(Decimal(api[field]))}</td>' in row
    assert f'href="/portal/invoices/{api["number"]}/pdf/"' in row
    assert api["bill"] in row


def test_its_pdf_is_the_invoices(signed_in, acme_world):
    invoice = acme_world["invoice"]

    answer = signed_in.get(f"/portal/invoices/{invoice.number}/pdf/")

    assert answer["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert invoice.number in text


@pytest.fixture
def open_bill(client, alice, acme_title, acme_bill):
    """ACME's October bill, issued and not invoiced yet, alice signed in to the portal."""
    client.force_login(alice)
    return acme_bill


def test_an_invoice_request_has_the_apis_effect(client, alice, alice_client, acme_title, open_bill):
    bill, signed_in = open_bill, client

    answer = signed_in.post(
        "/portal/invoice-requests/", {"bill": bill.number, "invoice_type": "ordinary", "note": "请寄到财务部"}
    )

    assert answer.status_code == 302
    (api,) = alice_client.get("/api/v1/invoice-requests/").json()
    assert (api["bill"], api["invoice_type"], api["note"], api["status"]) == (
        bill.number,
        "ordinary",
        "请寄到财务部",
        "open",
    )
    made = InvoiceRequest.objects.get()
    assert made.requested_by == alice
    assert made.title == acme_title
    assert "开票申请已提交" in signed_in.get("/portal/invoices/").content.decode()


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "该字段是必填项。"), ("en", "This field is required.")])
def test_an_invoice_request_without_a_bill_is_shown_beside_the_field(signed_in, acme_world, language, message):
    page = signed_in.post(
        "/portal/invoice-requests/", {"bill": "", "invoice_type": "special"}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert page.status_code == 400
    assert message in re.search(r'id="bill-errors">(.*?)</div>', page.content.decode(), re.S).group(1)
    assert not InvoiceRequest.objects.exists()


def test_a_second_request_while_one_is_open_is_409_naming_it_in_the_api(alice_client, open_bill):
    payload = {"bill": open_bill.number, "invoice_type": "special"}
    first = alice_client.post("/api/v1/invoice-requests/", payload, format="json")

    second = alice_client.post("/api/v1/invoice-requests/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json() == {
        "detail": f"Invoice request no. {first.json()['id']} for {open_bill.number}, asked on 2026-11-05, "
        "is still open; finance answers it first.",
        "errors": {},
    }
    assert InvoiceRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh-hans", "的开票申请（编号 {id}，2026-11-05 提交）仍未处理"), ("en", "Invoice request no. {id} for ")],
)
def test_a_second_request_in_the_portal_is_refused_beside_the_bill(client, open_bill, language, text):
    payload = {"bill": open_bill.number, "invoice_type": "special"}
    assert client.post("/portal/invoice-requests/", payload).status_code == 302
    first = InvoiceRequest.objects.get()

    page = client.post("/portal/invoice-requests/", payload, HTTP_ACCEPT_LANGUAGE=language)

    assert page.status_code == 409
    errors = re.search(r'id="bill-errors">(.*?)</div>', page.content.decode(), re.S).group(1)
    assert text.format(id=first.pk) in errors
    assert open_bill.number in errors
    assert InvoiceRequest.objects.count() == 1


def test_a_request_after_the_open_one_is_answered_is_taken(alice_client, open_bill):
    payload = {"bill": open_bill.number, "invoice_type": "special"}
    alice_client.post("/api/v1/invoice-requests/", payload, format="json")
    InvoiceRequest.objects.update(status=InvoiceRequest.Status.REJECTED)

    again = alice_client.post("/api/v1/invoice-requests/", payload, format="json")

    assert again.status_code == 201
    assert InvoiceRequest.objects.filter(status=InvoiceRequest.Status.OPEN).count() == 1


def test_a_request_on_a_fully_invoiced_bill_is_409_in_the_api(alice_client, acme_world):
    number = acme_world["bill"].number

    answer = alice_client.post(
        "/api/v1/invoice-requests/",
        {"bill": number, "invoice_type": "special"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert answer.status_code == 409
    assert answer.json()["detail"] == f"{number} is fully invoiced: nothing is left to invoice on it."
    assert not InvoiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "已全部开票，没有可开票的金额。"), ("en", "is fully invoiced: nothing is left")]
)
def test_a_request_on_a_fully_invoiced_bill_is_refused_beside_the_bill(signed_in, acme_world, language, text):
    number = acme_world["bill"].number

    page = signed_in.post(
        "/portal/invoice-requests/", {"bill": number, "invoice_type": "special"}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert page.status_code == 409
    errors = re.search(r'id="bill-errors">(.*?)</div>', page.content.decode(), re.S).group(1)
    assert f"{number} {text}" in errors
    assert not InvoiceRequest.objects.exists()


def test_another_customers_bill_is_404_as_in_the_api(client, charlie, charlie_client, acme_world):
    number = acme_world["bill"].number
    client.force_login(charlie)

    page = client.post("/portal/invoice-requests/", {"bill": number, "invoice_type": "special"})
    api = charlie_client.post("/api/v1/invoice-requests/", {"bill": number, "invoice_type": "special"}, format="json")

    assert page.status_code == 404
    assert api.status_code == 404
    assert not InvoiceRequest.objects.exists()


def test_the_titles_page_marks_the_default(signed_in, acme_world):
    html = signed_in.get("/portal/invoice-titles/").content.decode()

    title = acme_world["title"]
    assert re.search(rf'<tr data-pk="{title.pk}" class="default">', html)
    assert 'id="default-title"' in html


def _title_form(**changes) -> dict:
    data = {
        "name": "上海阿克米信息技术有限公司 研发中心",
        "tax_id": valid_uscc(4242),
        "address": "上海市徐汇区漕溪北路 1 号",
        "phone": "021-66668888",
        "bank_name": "",
        "bank_account": "",
        "email": "fapiao@acme.example.cn",
        "invoice_type": "special",
        "is_default": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_adding_a_default_title_moves_the_default_to_it(signed_in, acme_world):
    answer = signed_in.post("/portal/invoice-titles/new/", _title_form())

    assert answer.status_code == 302
    (default,) = InvoiceTitle.objects.filter(customer=acme_world["bill"].customer, is_default=True)
    assert default.name.endswith("研发中心")
    assert InvoiceTitle.objects.filter(customer=acme_world["bill"].customer).count() == 2


@pytest.mark.parametrize(("language", "text"), [("zh-hans", "校验码错误"), ("en", "The check character is wrong")])
def test_a_wrong_uscc_is_shown_beside_the_tax_id(signed_in, acme_world, language, text):
    wrong = valid_uscc(4242)[:-1] + ("0" if valid_uscc(4242)[-1] != "0" else "1")

    page = signed_in.post("/portal/invoice-titles/new/", _title_form(tax_id=wrong), HTTP_ACCEPT_LANGUAGE=language)

    assert page.status_code == 400
    errors = re.search(r'id="tax_id-errors">(.*?)</div>', page.content.decode(), re.S).group(1)
    assert text in errors
    assert InvoiceTitle.objects.count() == 1


def test_a_half_pair_is_refused_and_nothing_is_kept(signed_in, acme_world):
    page = signed_in.post("/portal/invoice-titles/new/", _title_form(bank_name="招商银行"))

    assert page.status_code == 400
    assert 'id="bank_account-errors"' in page.content.decode()
    assert InvoiceTitle.objects.count() == 1
    assert InvoiceTitle.objects.get().is_default


def test_editing_a_title_changes_it(signed_in, acme_world):
    title = acme_world["title"]

    answer = signed_in.post(
        f"/portal/invoice-titles/{title.pk}/",
        _title_form(name=title.name, tax_id=title.tax_id, email="new@acme.example.cn"),
    )

    assert answer.status_code == 302
    title.refresh_from_db()
    assert title.email == "new@acme.example.cn"
    assert title.is_default


def test_a_developer_is_refused_invoices_and_titles(client, bob, acme_world):
    client.force_login(bob)

    assert client.get("/portal/invoices/").status_code == 403
    assert client.get("/portal/invoice-titles/").status_code == 403
    assert client.post("/portal/invoice-requests/", {"bill": acme_world["bill"].number}).status_code == 403
