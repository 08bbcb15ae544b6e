"""The nuonuo provider backend against a local fake of the platform (tests/invoices/fake_nuonuo.py):
signed requests, the order number as idempotency key, polling, failures, HTTP errors and
timeouts (the invoice stays pending), red-letter forms, and the signed callback."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from customers.models import Customer
from invoices.backends import get_backend
from invoices.backends.nuonuo import NuonuoBackend, NuonuoClient, NuonuoError, blue_order
from invoices.models import Invoice, RedLetterForm
from invoices.services import bill_invoiceable, invoice_issue, invoice_red_letter
from invoices.tasks import invoices_poll_pending
from tests.invoices.fake_nuonuo import FAKE_PDF, FakeNuonuo, Script
from tests.invoices.helpers import SELLER_TAX_ID

pytestmark = pytest.mark.django_db

CALLBACK = "/api/v1/invoices/callbacks/nuonuo/"


@pytest.fixture
def fake():
    server = FakeNuonuo().start()
    yield server
    server.stop()


@pytest.fixture
def backend(settings, fake) -> NuonuoBackend:
    settings.NUONUO_BASE_URL = fake.url
    settings.NUONUO_APP_KEY = fake.app_key
    settings.NUONUO_APP_SECRET = fake.app_secret
    settings.NUONUO_TAX_NUMBER = SELLER_TAX_ID
    settings.INVOICE_BACKEND = "nuonuo"
    return get_backend()


@pytest.fixture
def issue(django_capture_on_commit_callbacks):
    """Issue on a bill with a backend, running what the issue schedules after commit."""

    def run(bill, backend, **kwargs) -> Invoice:
        with django_capture_on_commit_callbacks(execute=True):
            (invoice,) = invoice_issue(bill=bill, backend=backend, **kwargs)
        invoice.refresh_from_db()
        return invoice

    return run


@pytest.fixture
def poll(django_capture_on_commit_callbacks):
    def run(backend, invoice) -> bool:
        with django_capture_on_commit_callbacks(execute=True):
            resolved = backend.poll(invoice=invoice)
        invoice.refresh_from_db()
        return resolved

    return run


def test_it_needs_its_settings(settings):
    settings.NUONUO_BASE_URL = ""

    with pytest.raises(ImproperlyConfigured):
        NuonuoClient.from_settings()


def test_it_signs_its_requests_and_the_platform_refuses_a_wrong_secret(fake):
    client = NuonuoClient(base_url=fake.url, app_key=fake.app_key, app_secret="not-the-secret")

    with pytest.raises(NuonuoError) as caught:
        client.invoice_query("INV-1")

    assert caught.value.code == "E9101"


def test_it_submits_the_order_as_documented_and_leaves_the_invoice_pending(backend, issue, fake, acme, acme_bill):
    invoice = issue(acme_bill, backend, invoice_type="special")

    assert (invoice.status, invoice.number, invoice.backend) == ("pending", None, "nuonuo")
    assert fake.paths() == ["/open/v1/invoices"]
    order = fake.requests[0][1]["order"]
    assert order == blue_order(invoice)
    assert {k: order[k] for k in ("orderNo", "buyerName", "buyerTaxNum", "salerTaxNum", "clerk")} == {
        "orderNo": invoice.order_number,
        "buyerName": "上海阿克米信息技术有限公司",
        "buyerTaxNum": acme.tax_id,
        "salerTaxNum": SELLER_TAX_ID,
        "clerk": "王会计",
    }
    assert (order["invoiceType"], order["invoiceLine"], order["buyerEmail"], order["pushMode"]) == (
        "1",
        "bs",
        acme.email,
        "1",
    )
    assert order["invoiceDetail"] == [
        {
            "goodsName": "大模型API调用服务",
            "goodsCode": "3040201990000000000",
            "specType": "2026-10",
            "unit": invoice.lines.get().unit,
            "num": "1",
            "price": "11646.86",
            "withTaxFlag": "0",
            "taxExcludedAmount": "11646.86",
            "taxRate": "0.06",
            "tax": "698.81",
        }
    ]
    assert invoice.events.filter(kind="submitted").count() == 1


def test_it_sends_an_ordinary_invoice_as_pc(backend, issue, fake, acme_bill):
    issue(acme_bill, backend, invoice_type="ordinary")

    assert fake.requests[0][1]["order"]["invoiceLine"] == "pc"


def test_it_gets_one_invoice_when_the_same_order_number_is_sent_again(backend, issue, poll, fake, acme_bill):
    invoice = issue(acme_bill, backend)
    order = fake.requests[0][1]["order"]

    again = backend.client.invoice_submit(order)
    backend.send(invoice=invoice)

    assert again == fake.orders[invoice.order_number].serial
    assert list(fake.orders) == [invoice.order_number]
    assert poll(backend, invoice) is True
    first_number = invoice.number
    assert backend.client.invoice_query(invoice.order_number).invoice_number == first_number


def test_it_polls_until_the_platform_has_issued_the_invoice(backend, issue, poll, fake, acme_bill):
    invoice = issue(acme_bill, backend)
    fake.scripts[invoice.order_number] = Script(polls_before_result=2)

    assert [poll(backend, invoice), poll(backend, invoice)] == [False, False]
    assert invoice.status == Invoice.Status.PENDING
    assert poll(backend, invoice) is True

    assert invoice.status == Invoice.Status.ISSUED
    assert len(invoice.number) == 20 and invoice.number.isdigit()
    assert invoice.number == fake.orders[invoice.order_number].invoice_no
    assert invoice.number[:5] == "26312"
    assert invoice.issued_on == date(2026, 11, 5)
    with invoice.platform_file.open("rb") as handle:
        assert handle.read() == FAKE_PDF
    assert poll(backend, invoice) is True  # resolved: nothing more to ask
    assert fake.paths().count("/open/v1/invoices/query") == 3


def test_it_marks_the_invoice_failed_with_the_platform_message(backend, issue, poll, fake, acme_bill):
    invoice = issue(acme_bill, backend)
    fake.scripts[invoice.order_number] = Script(
        polls_before_result=1, outcome="failure", message="购方名称与税号不匹配"
    )

    assert poll(backend, invoice) is False
    assert poll(backend, invoice) is True

    assert (invoice.status, invoice.number, invoice.failure) == ("failed", None, "购方名称与税号不匹配")
    # A failed invoice does not count: the whole bill can be invoiced again.
    assert bill_invoiceable(acme_bill).amount == Decimal("11646.86")


def test_it_marks_the_invoice_failed_when_the_platform_refuses_the_order(backend, issue, fake, acme, acme_bill):
    Customer.objects.filter(pk=acme.pk).update(name="")  # the platform requires buyerName

    invoice = issue(acme_bill, backend, invoice_type="ordinary")

    assert (invoice.status, invoice.failure) == ("failed", "[E9103] 必填项缺失")
    assert fake.orders == {}


def test_it_keeps_the_invoice_pending_on_a_server_error_and_sends_it_again(backend, issue, poll, fake, acme_bill):
    fake.errors.append(("/open/v1/invoices", 500))

    invoice = issue(acme_bill, backend)

    assert invoice.status == Invoice.Status.PENDING
    assert fake.orders == {}
    assert invoice.events.filter(kind="platform_unavailable").count() == 1
    # The poller finds the platform never received it and sends it again, same order number.
    assert poll(backend, invoice) is False
    assert list(fake.orders) == [invoice.order_number]
    assert poll(backend, invoice) is True
    assert invoice.status == Invoice.Status.ISSUED


def test_it_keeps_the_invoice_pending_on_a_timeout_and_retries_without_a_duplicate(fake, issue, poll, acme_bill):
    backend = NuonuoBackend(
        NuonuoClient(base_url=fake.url, app_key=fake.app_key, app_secret=fake.app_secret, timeout=0.3)
    )
    fake.stalls["/open/v1/invoices"] = 1.0
    (invoice,) = invoice_issue(bill=acme_bill, backend=backend)

    backend.send(invoice=invoice)  # what the task scheduled after commit does

    invoice.refresh_from_db()

    assert invoice.status == Invoice.Status.PENDING
    assert "Timeout" in invoice.events.get(kind="platform_unavailable").data["error"]
    del fake.stalls["/open/v1/invoices"]
    backend.send(invoice=invoice)  # a retry after the timeout: the platform had it already
    assert poll(backend, invoice) is True
    assert invoice.status == Invoice.Status.ISSUED
    assert list(fake.orders) == [invoice.order_number]


def test_it_keeps_the_invoice_pending_while_the_platform_cannot_be_reached(acme_bill, poll):
    backend = NuonuoBackend(NuonuoClient(base_url="http://127.0.0.1:9", app_key="k", app_secret="s", timeout=0.5))
    (invoice,) = invoice_issue(bill=acme_bill, backend=backend)

    backend.send(invoice=invoice)

    invoice.refresh_from_db()

    assert invoice.status == Invoice.Status.PENDING
    assert poll(backend, invoice) is False
    assert invoice.status == Invoice.Status.PENDING


def test_it_polls_pending_invoices_from_the_periodic_task(
    backend, issue, fake, acme_bill, django_capture_on_commit_callbacks
):
    invoice = issue(acme_bill, backend)

    with django_capture_on_commit_callbacks(execute=True):
        assert invoices_poll_pending() == 1

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


@pytest.fixture
def issued_blue(backend, issue, poll, acme_bill) -> Invoice:
    invoice = issue(acme_bill, backend)
    assert poll(backend, invoice) is True
    return invoice


@pytest.fixture
def reverse(django_capture_on_commit_callbacks):
    def run(blue, backend, **kwargs) -> Invoice:
        with django_capture_on_commit_callbacks(execute=True):
            red = invoice_red_letter(blue=blue, backend=backend, **kwargs)
        red.refresh_from_db()
        return red

    return run


def test_it_files_a_red_letter_form_then_issues_the_red_invoice(backend, issued_blue, reverse, poll, fake):
    red = reverse(issued_blue, backend, reason=2, note="开票有误")

    assert red.status == Invoice.Status.PENDING
    assert fake.paths()[-2:] == ["/open/v1/red-confirmations", "/open/v1/invoices/red"]
    form = fake.requests[-2][1]["redConfirm"]
    assert {
        k: form[k] for k in ("billNo", "blueInvoiceNo", "redReason", "applySource", "taxExcludedAmount", "tax")
    } == {
        "billNo": red.order_number,
        "blueInvoiceNo": issued_blue.number,
        "redReason": "2",
        "applySource": "0",
        "taxExcludedAmount": "-11646.86",
        "tax": "-698.81",
    }
    order = fake.requests[-1][1]["order"]
    assert (order["blueInvoiceNo"], order["billId"], order["invoiceType"]) == (
        issued_blue.number,
        fake.red_forms[red.order_number].bill_id,
        "2",
    )
    assert RedLetterForm.objects.get(red=red).status == RedLetterForm.Status.CONFIRMED
    issued_blue.refresh_from_db()
    assert issued_blue.status == Invoice.Status.ISSUED  # not reversed until the red invoice exists

    assert poll(backend, red) is True

    issued_blue.refresh_from_db()
    assert (red.status, red.amount.amount, red.original_id) == ("issued", Decimal("-11646.86"), issued_blue.pk)
    assert red.number != issued_blue.number and len(red.number) == 20
    assert issued_blue.status == Invoice.Status.REVERSED
    assert RedLetterForm.objects.get(red=red).status == RedLetterForm.Status.RED_ISSUED


def test_it_waits_while_the_buyer_has_to_confirm_the_form(backend, issued_blue, reverse, poll, fake):
    original = fake.red_form_submit

    def buyer_must_confirm(payload):  # the buyer has booked the blue invoice: it confirms the form
        fake.form_scripts.setdefault(payload["redConfirm"]["billNo"], {"awaiting_for": 1})
        return original(payload)

    fake.red_form_submit = buyer_must_confirm
    red = reverse(issued_blue, backend, reason=4, amount=Decimal("1000.00"))
    fake.scripts[red.order_number] = Script(polls_before_result=1)

    assert (red.status, red.amount.amount, red.vat.amount) == ("pending", Decimal("-1000.00"), Decimal("-60.00"))
    assert RedLetterForm.objects.get(red=red).status == RedLetterForm.Status.AWAITING
    assert "/open/v1/invoices/red" not in fake.paths()

    assert poll(backend, red) is False  # the buyer confirmed: the red invoice is asked for, still processing
    assert RedLetterForm.objects.get(red=red).status == RedLetterForm.Status.CONFIRMED
    assert fake.paths().count("/open/v1/invoices/red") == 1
    assert poll(backend, red) is True

    issued_blue.refresh_from_db()
    assert (red.status, issued_blue.status) == ("issued", Invoice.Status.PARTIALLY_REVERSED)
    assert RedLetterForm.objects.get(red=red).status == RedLetterForm.Status.RED_ISSUED


def test_it_fails_the_red_invoice_when_the_buyer_rejects_the_form(backend, issued_blue, reverse, fake):
    original = fake.red_form_submit

    def rejecting(payload):
        fake.form_scripts[payload["redConfirm"]["billNo"]] = {"outcome": "rejected"}
        return original(payload)

    fake.red_form_submit = rejecting

    red = reverse(issued_blue, backend, reason=4, amount=Decimal("1000.00"))

    issued_blue.refresh_from_db()
    assert (red.status, red.failure) == ("failed", "购方已拒绝")
    assert RedLetterForm.objects.get(red=red).status == RedLetterForm.Status.REJECTED
    assert issued_blue.status == Invoice.Status.ISSUED
    assert bill_invoiceable(issued_blue.bill).amount == Decimal("0.00")


def callback(api_client, fake, payload, **kwargs):
    body, headers = fake.signed(CALLBACK, payload, **kwargs)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return api_client.post(CALLBACK, body, content_type="application/json", **extra)


def success_payload(invoice: Invoice) -> dict:
    return {
        "orderNo": invoice.order_number,
        "status": "success",
        "invoiceNo": "26312000000000000777",
        "invoiceDate": "2026-11-05 11:20:00",
        "pdfUrl": "",
    }


def test_it_applies_a_signed_callback_once(backend, issue, fake, acme_bill, client):
    invoice = issue(acme_bill, backend)

    first = callback(client, fake, success_payload(invoice))
    second = callback(client, fake, success_payload(invoice))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == {"code": "E0000", "describe": "OK"}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.issued_on) == ("issued", "26312000000000000777", date(2026, 11, 5))
    assert invoice.events.filter(kind="issued").count() == 1
    # A later, different answer for the same order changes nothing either.
    late = callback(client, fake, {**success_payload(invoice), "invoiceNo": "26312000000000000888"})
    assert late.status_code == 200
    invoice.refresh_from_db()
    assert invoice.number == "26312000000000000777"


def test_it_refuses_a_callback_with_a_bad_signature(backend, issue, fake, acme_bill, client):
    invoice = issue(acme_bill, backend)

    forged = callback(client, fake, success_payload(invoice), secret="guessed")
    stale = callback(client, fake, success_payload(invoice), age=3600)

    assert (forged.status_code, stale.status_code) == (403, 403)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("pending", None)


def test_it_applies_a_failure_callback(backend, issue, fake, acme_bill, client):
    invoice = issue(acme_bill, backend)

    response = callback(client, fake, {"orderNo": invoice.order_number, "status": "failure", "message": "额度不足"})

    assert response.status_code == 200
    invoice.refresh_from_db()
    assert (invoice.status, invoice.failure) == ("failed", "额度不足")


def test_it_answers_404_to_a_callback_for_an_unknown_order(backend, fake, client, seller):
    response = callback(client, fake, {"orderNo": "INV-NOPE", "status": "success", "invoiceNo": "2" * 20})

    assert response.status_code == 404


def test_it_answers_the_issue_endpoint_with_a_pending_invoice(backend, fake, finance_client, acme_bill):
    response = finance_client.post(f"/api/v1/bills/{acme_bill.number}/invoices/", {}, format="json")

    assert response.status_code == 201
    (invoice,) = response.json()["invoices"]
    assert (invoice["status"], invoice["number"], invoice["issued_on"], invoice["backend"]) == (
        "pending",
        None,
        None,
        "nuonuo",
    )


def test_it_frees_the_bill_only_once_the_red_invoice_is_issued(backend, issued_blue, reverse, fake, finance_client):
    # While the buyer may still reject the form, the bill must not be invoiced again: a
    # rejected red invoice would leave two blue invoices on it (money rule 11, docs/money-rules.md).
    original = fake.red_form_submit

    def rejected_later(payload):
        fake.form_scripts.setdefault(payload["redConfirm"]["billNo"], {"awaiting_for": 5, "outcome": "rejected"})
        return original(payload)

    fake.red_form_submit = rejected_later
    bill = issued_blue.bill
    red = reverse(issued_blue, backend, reason=2)
    assert red.status == Invoice.Status.PENDING

    assert bill_invoiceable(bill).amount == Decimal("0.00")
    assert finance_client.post(f"/api/v1/bills/{bill.number}/invoices/", {}, format="json").status_code == 409


def test_it_has_no_pdf_for_a_failed_invoice(backend, issue, fake, acme, acme_bill, finance_client):
    Customer.objects.filter(pk=acme.pk).update(name="")
    invoice = issue(acme_bill, backend, invoice_type="ordinary")
    assert invoice.status == Invoice.Status.FAILED

    response = finance_client.get(f"/api/v1/invoices/{invoice.order_number}/pdf/")

    assert response.status_code == 404
