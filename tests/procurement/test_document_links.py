"""The admin's "open / download" links on bills and invoices (list and page) point at the
signed-in document views, never at /media/; a draft bill has no PDF ("—")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from billing.bills.documents import bill_render_pdf
from billing.models import Bill
from invoices.documents import invoice_render_pdf
from invoices.services import invoice_issue
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
def clerk() -> Client:
    client = Client()
    client.force_login(UserFactory(username="clerk", is_staff=True, groups=["finance"]))
    return client


@pytest.fixture
def bill(acme) -> Bill:
    seller_profile()
    return bill_render_pdf(bill_id=commitment_bill(acme, Decimal("11646.86")).pk)


@pytest.fixture
def draft(other_customer) -> Bill:
    return Bill.objects.create(
        customer=other_customer,
        period=date(2026, 10, 1),
        status=Bill.Status.DRAFT,
        subtotal=Money(Decimal("100.00"), "CNY"),
        vat=Money(Decimal("6.00"), "CNY"),
        total=Money(Decimal("106.00"), "CNY"),
        vat_rate=Decimal("0.06"),
        hold_reason="No USD exchange rate for 2026-10.",
    )


def links(url: str) -> tuple[str, str]:
    return (f'href="{url}"', f'href="{url}?download=1"')


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_links_each_issued_bill_to_its_pdf_and_a_draft_to_nothing(clerk, bill, draft, language):
    page = clerk.get(reverse("admin:billing_bill_changelist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert all(link in page for link in links("/documents/bills/BILL-ACME-202610/pdf/"))
    assert f"/documents/bills/{draft.pk}/pdf/" not in page
    assert "/media/" not in page
    words = ("打开", "下载") if language == "zh-hans" else ("open", "download")
    assert all(f">{word}</a>" in page for word in words)


def test_it_links_the_bill_page_to_its_pdf(clerk, bill, draft):
    issued = clerk.get(reverse("admin:billing_bill_change", args=[bill.pk])).content.decode()
    held = clerk.get(reverse("admin:billing_bill_change", args=[draft.pk])).content.decode()

    assert all(link in issued for link in links("/documents/bills/BILL-ACME-202610/pdf/"))
    assert "/media/" not in issued
    assert "/documents/bills/" not in held


def test_the_linked_bill_pdf_opens_for_the_clerk(clerk, bill):
    response = clerk.get("/documents/bills/BILL-ACME-202610/pdf/")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_it_links_the_invoice_list_and_page_to_the_invoice_pdf(clerk, bill):
    (invoice,) = invoice_issue(bill=bill)
    invoice = invoice_render_pdf(invoice_id=invoice.pk)
    url = f"/documents/invoices/{invoice.number}/pdf/"

    listing = clerk.get(reverse("admin:invoices_invoice_changelist")).content.decode()
    page = clerk.get(reverse("admin:invoices_invoice_change", args=[invoice.pk])).content.decode()

    for html in (listing, page):
        assert all(link in html for link in links(url))
        assert "/media/" not in html
    assert clerk.get(url).content.startswith(b"%PDF-")
