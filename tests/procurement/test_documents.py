"""Bill and invoice PDFs are served only to signed-in users, by the API's rules: alice (ACME
portal admin), dora (ACME portal finance) and fiona (finance staff) read ACME's; bob (ACME
developer) gets 403, charlie (another customer's admin) and pete (presales) 404; a signed-out
visitor is sent to the login page. Nothing under /media/ is served, in DEBUG or not."""

from __future__ import annotations

import importlib
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve
from djmoney.money import Money

from billing.bills.documents import bill_render_pdf
from billing.models import Bill
from customers.models import PortalUser
from invoices.backends.manual import ManualBackend
from invoices.documents import invoice_render_pdf
from invoices.models import Invoice
from invoices.services import invoice_issue, invoice_record_manual
from tests.factories import UserFactory
from tests.invoices.helpers import SHANGHAI, commitment_bill, seller_profile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _november(time_machine):
    time_machine.move_to(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=True)


@pytest.fixture
def bill(acme) -> Bill:
    seller_profile()
    return commitment_bill(acme, Decimal("11646.86"))


@pytest.fixture
def invoice(bill) -> Invoice:
    (issued,) = invoice_issue(bill=bill)
    return issued


@pytest.fixture
def dora(acme):
    user = UserFactory(username="dora")
    PortalUser.objects.create(user=user, customer=acme, role=PortalUser.Role.FINANCE)
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bill_url(bill: Bill) -> str:
    return f"/documents/bills/{bill.number}/pdf/"


def invoice_url(invoice: Invoice) -> str:
    return f"/documents/invoices/{invoice.number}/pdf/"


def stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def test_it_sends_a_signed_out_visitor_to_the_login_page(client, bill, invoice):
    for url in (bill_url(bill), invoice_url(invoice)):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"] == f"/portal/login/?next={url}"


@pytest.mark.parametrize("who", ["finance_user", "alice", "dora"])
def test_it_serves_both_pdfs_to_finance_and_the_customers_admin_and_finance_users(request, who, bill, invoice):
    client = signed_in(request.getfixturevalue(who))

    bill_pdf = client.get(bill_url(bill))
    invoice_pdf = client.get(invoice_url(invoice))

    bill.refresh_from_db()
    invoice.refresh_from_db()
    for response, document in ((bill_pdf, bill), (invoice_pdf, invoice)):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="{document.number}.pdf"'
        assert "private" in response["Cache-Control"]
        assert response.content.startswith(b"%PDF-")
        assert response.content == stored(document.pdf)


def test_it_gives_an_attachment_on_download(finance_user, bill, invoice):
    client = signed_in(finance_user)

    bill_pdf = client.get(bill_url(bill) + "?download=1")
    invoice_pdf = client.get(invoice_url(invoice) + "?download=1")

    assert bill_pdf["Content-Disposition"] == 'attachment; filename="BILL-ACME-202610.pdf"'
    assert invoice_pdf["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert bill_pdf.content.startswith(b"%PDF-") and invoice_pdf.content.startswith(b"%PDF-")


def test_it_forbids_a_developer_of_the_customer(bob, bill, invoice):
    client = signed_in(bob)

    assert client.get(bill_url(bill)).status_code == 403
    assert client.get(invoice_url(invoice)).status_code == 403


@pytest.mark.parametrize("who", ["charlie", "presales_user"])
def test_it_hides_the_pdfs_from_another_customer_and_from_staff_outside_finance(request, who, bill, invoice):
    client = signed_in(request.getfixturevalue(who))

    assert client.get(bill_url(bill)).status_code == 404
    assert client.get(invoice_url(invoice)).status_code == 404


def test_it_has_no_pdf_for_a_draft_bill(finance_user, acme):
    draft = Bill.objects.create(
        customer=acme,
        period=date(2026, 10, 1),
        status=Bill.Status.DRAFT,
        subtotal=Money(Decimal("100.00"), "CNY"),
        vat=Money(Decimal("6.00"), "CNY"),
        total=Money(Decimal("106.00"), "CNY"),
        vat_rate=Decimal("0.06"),
        hold_reason="No USD exchange rate for 2026-10.",
    )

    assert signed_in(finance_user).get(f"/documents/bills/{draft.pk}/pdf/").status_code == 404
    assert not Bill.objects.get(pk=draft.pk).pdf


def test_it_serves_the_platform_file_of_a_manual_invoice_by_the_same_rules(client, finance_user, charlie, bob, bill):
    (pending,) = invoice_issue(bill=bill, backend=ManualBackend())
    invoice = invoice_record_manual(
        invoice=pending,
        number="26312000000000000042",
        issued_on=date(2026, 11, 5),
        platform_file=SimpleUploadedFile("dzfp.ofd", b"OFD-bytes", content_type="application/ofd"),
    )
    url = f"/documents/invoices/{invoice.number}/platform-file/"

    response = signed_in(finance_user).get(url + "?download=1")

    assert response.status_code == 200
    assert response.content == b"OFD-bytes"
    assert response["Content-Disposition"] == 'attachment; filename="26312000000000000042.ofd"'
    assert client.get(url).status_code == 302
    assert signed_in(bob).get(url).status_code == 403
    assert signed_in(charlie).get(url).status_code == 404


@pytest.fixture
def urlconf_in_debug(settings):
    """procurement.urls reloaded with the given DEBUG, as a process started in that setting
    would load it (the old static(MEDIA_URL, …) serving was added only in DEBUG)."""
    import procurement.urls

    def load(debug: bool):
        settings.DEBUG = debug
        importlib.reload(procurement.urls)
        clear_url_caches()

    yield load
    settings.DEBUG = False
    importlib.reload(procurement.urls)
    clear_url_caches()


@pytest.mark.parametrize("debug", [True, False])
def test_it_serves_nothing_under_media_in_any_setting(
    urlconf_in_debug, debug, settings, client, admin_client, bill, invoice
):
    urlconf_in_debug(debug)
    bill = bill_render_pdf(bill_id=bill.pk)
    invoice = invoice_render_pdf(invoice_id=invoice.pk)
    assert (settings.MEDIA_ROOT / bill.pdf.name).is_file() and (settings.MEDIA_ROOT / invoice.pdf.name).is_file()

    for name in (bill.pdf.name, invoice.pdf.name):
        assert client.get(f"/media/{name}").status_code == 404
        assert admin_client.get(f"/media/{name}").status_code == 404
        with pytest.raises(Resolver404):
            resolve(f"/media/{name}")
