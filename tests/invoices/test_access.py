"""Who may read and issue invoices, and customers' invoice requests: alice (ACME portal
admin), bob (ACME developer), charlie (another customer's admin), finance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoices.models import Invoice, InvoiceRequest
from invoices.services import invoice_issue
from tests.invoices.helpers import commitment_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(acme_bill) -> Invoice:
    (issued,) = invoice_issue(bill=acme_bill)
    return issued


def test_it_lets_the_customer_admin_read_its_invoices_and_their_pdf(alice_client, invoice):
    listing = alice_client.get("/api/v1/invoices/")
    detail = alice_client.get(f"/api/v1/invoices/{invoice.number}/")
    pdf = alice_client.get(f"/api/v1/invoices/{invoice.number}/pdf/")

    assert [i["number"] for i in listing.json()] == [invoice.number]
    assert detail.status_code == 200
    assert detail.json()["total"] == "12345.67"
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_it_forbids_invoices_to_a_developer_of_the_customer(bob_client, invoice):
    assert bob_client.get("/api/v1/invoices/").status_code == 403
    assert bob_client.get(f"/api/v1/invoices/{invoice.number}/").status_code == 403
    assert bob_client.get(f"/api/v1/invoices/{invoice.number}/pdf/").status_code == 403


def test_it_hides_another_customers_invoices(charlie_client, invoice):
    assert charlie_client.get("/api/v1/invoices/").json() == []
    assert charlie_client.get(f"/api/v1/invoices/{invoice.number}/").status_code == 404
    assert charlie_client.get(f"/api/v1/invoices/{invoice.number}/pdf/").status_code == 404
    assert charlie_client.get(f"/api/v1/invoices/?customer=ACME&bill={invoice.bill.number}").json() == []


def test_it_lets_only_finance_issue_and_reverse(alice_client, bob_client, charlie_client, acme_bill):
    url = f"/api/v1/bills/{acme_bill.number}/invoices/"

    assert alice_client.post(url, {"invoice_type": "special"}, format="json").status_code == 403
    assert bob_client.post(url, {"invoice_type": "special"}, format="json").status_code == 403
    assert charlie_client.post(url, {"invoice_type": "special"}, format="json").status_code == 404
    assert not Invoice.objects.exists()

    (blue,) = invoice_issue(bill=acme_bill)
    assert alice_client.post(f"/api/v1/invoices/{blue.number}/red-letter/", {"reason": 2}).status_code == 403
    blue.refresh_from_db()
    assert blue.status == Invoice.Status.ISSUED


def test_it_lets_finance_list_invoices_by_customer_and_bill(finance_client, invoice, other_customer):
    (other,) = invoice_issue(bill=commitment_bill(other_customer, Decimal("10.00")))

    everything = finance_client.get("/api/v1/invoices/").json()
    acme_only = finance_client.get("/api/v1/invoices/?customer=acme").json()
    by_bill = finance_client.get(f"/api/v1/invoices/?bill={other.bill.number}").json()

    assert {i["number"] for i in everything} == {invoice.number, other.number}
    assert [i["number"] for i in acme_only] == [invoice.number]
    assert [i["number"] for i in by_bill] == [other.number]


def test_it_takes_an_invoice_request_from_the_customer_admin(alice_client, alice, acme_bill):
    response = alice_client.post(
        "/api/v1/invoice-requests/",
        {"bill": acme_bill.number, "invoice_type": "special", "note": "请寄送至财务部"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("customer", "bill", "invoice_type", "note", "status")} == {
        "customer": "ACME",
        "bill": acme_bill.number,
        "invoice_type": "special",
        "note": "请寄送至财务部",
        "status": "open",
    }
    request = InvoiceRequest.objects.get()
    assert (request.requested_by, request.customer.code) == (alice, "ACME")
    assert [r["id"] for r in alice_client.get("/api/v1/invoice-requests/").json()] == [request.pk]


def test_it_refuses_invoice_requests_for_another_customers_bill(charlie_client, bob_client, acme_bill):
    payload = {"bill": acme_bill.number, "invoice_type": "special"}

    assert charlie_client.post("/api/v1/invoice-requests/", payload, format="json").status_code == 404
    assert bob_client.post("/api/v1/invoice-requests/", payload, format="json").status_code == 403
    assert not InvoiceRequest.objects.exists()
