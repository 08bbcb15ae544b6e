"""The manual backend: finance issues on the tax bureau's site, then records the number."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from common.api import exception_handler
from common.errors import Conflict
from invoices.backends import get_backend
from invoices.backends.manual import ManualBackend
from invoices.models import Invoice, RedLetterForm
from invoices.services import invoice_issue, invoice_red_letter, mark_issued
from tests.invoices.helpers import commitment_bill

pytestmark = pytest.mark.django_db

NUMBER = "26312000000000000123"


def api_status(exc: Exception) -> tuple[int, dict]:
    response = exception_handler(exc, {})
    return response.status_code, response.data


@pytest.fixture
def pending(acme_bill) -> Invoice:
    (invoice,) = invoice_issue(bill=acme_bill, backend=ManualBackend())
    return invoice


def test_it_is_chosen_by_the_invoice_backend_setting(settings):
    settings.INVOICE_BACKEND = "manual"

    assert get_backend().name == "manual"


def test_it_leaves_the_invoice_pending_without_a_number(pending, acme_bill, finance_client):
    pending.refresh_from_db()

    assert (pending.status, pending.number, pending.issued_on, pending.backend) == ("pending", None, None, "manual")
    # A pending invoice already counts against the bill: no second invoice meanwhile.
    assert finance_client.post(f"/api/v1/bills/{acme_bill.number}/invoices/", {}, format="json").status_code == 409


def test_it_records_the_number_finance_got_from_the_tax_bureau(pending):
    mark_issued(invoice=pending, number=NUMBER, issued_on=date(2026, 11, 6))

    pending.refresh_from_db()
    assert (pending.status, pending.number, pending.issued_on) == ("issued", NUMBER, date(2026, 11, 6))
    assert pending.events.filter(kind="issued").count() == 1


def test_it_refuses_a_number_that_is_not_20_digits(pending):
    with pytest.raises(ValidationError) as caught:
        mark_issued(invoice=pending, number="2631200000000000012", issued_on=date(2026, 11, 6))

    status, body = api_status(caught.value)
    assert status == 400
    assert list(body["errors"]) == ["number"]


def test_it_refuses_a_number_already_recorded_on_another_invoice(pending, other_customer):
    mark_issued(invoice=pending, number=NUMBER, issued_on=date(2026, 11, 6))
    (other,) = invoice_issue(bill=commitment_bill(other_customer, Decimal("10.00")), backend=ManualBackend())

    with pytest.raises(ValidationError) as caught:
        mark_issued(invoice=other, number=NUMBER, issued_on=date(2026, 11, 6))

    status, body = api_status(caught.value)
    assert status == 400
    assert list(body["errors"]) == ["number"]
    other.refresh_from_db()
    assert (other.status, other.number) == ("pending", None)


def test_it_never_changes_the_number_of_an_issued_invoice(pending):
    mark_issued(invoice=pending, number=NUMBER, issued_on=date(2026, 11, 6))

    with pytest.raises(Conflict) as caught:
        mark_issued(
            invoice=Invoice.objects.get(pk=pending.pk), number="26312000000000000999", issued_on=date(2026, 11, 7)
        )

    assert api_status(caught.value)[0] == 409
    pending.refresh_from_db()
    assert (pending.number, pending.issued_on) == (NUMBER, date(2026, 11, 6))


def test_it_waits_for_the_counterparty_on_a_red_letter_form_then_records_the_red_number(pending):
    mark_issued(invoice=pending, number=NUMBER, issued_on=date(2026, 11, 6))

    red = invoice_red_letter(blue=pending, reason=4, amount=Decimal("100.00"), backend=ManualBackend())

    form = RedLetterForm.objects.get(red=red)
    assert (red.status, red.number, form.status) == ("pending", None, RedLetterForm.Status.AWAITING)
    assert (red.amount.amount, red.vat.amount) == (Decimal("-100.00"), Decimal("-6.00"))
    pending.refresh_from_db()
    assert pending.status == Invoice.Status.ISSUED  # nothing reversed until the red invoice exists

    mark_issued(invoice=red, number="26312000000000000124", issued_on=date(2026, 11, 8))

    pending.refresh_from_db()
    form.refresh_from_db()
    assert (pending.status, form.status) == (Invoice.Status.PARTIALLY_REVERSED, RedLetterForm.Status.RED_ISSUED)


def test_it_records_number_date_and_platform_file_through_the_api(
    pending, finance_client, alice_client, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    url = f"/api/v1/invoices/{pending.order_number}/record/"
    upload = SimpleUploadedFile("platform.pdf", b"%PDF-1.7 from the tax bureau", content_type="application/pdf")

    assert alice_client.post(url, {"number": NUMBER, "issued_on": "2026-11-06"}).status_code == 403
    response = finance_client.post(url, {"number": NUMBER, "issued_on": "2026-11-06", "platform_file": upload})

    assert response.status_code == 200, response.json()
    assert (response.json()["number"], response.json()["status"]) == (NUMBER, "issued")
    pending.refresh_from_db()
    assert pending.platform_file.read() == b"%PDF-1.7 from the tax bureau"
    again = finance_client.post(
        url.replace(pending.order_number, NUMBER), {"number": NUMBER, "issued_on": "2026-11-06"}
    )
    assert again.status_code == 409  # an issued invoice's number never changes
