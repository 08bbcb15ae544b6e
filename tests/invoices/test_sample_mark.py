"""An invoice of the local backend is numbered and printed by this app, not by the tax
platform: its PDF says so (样票, a watermark and a line on top, naming the backend). Invoices
of the manual and nuonuo backends carry no such mark."""

from __future__ import annotations

from datetime import date

import pytest

from invoices.backends.manual import ManualBackend
from invoices.models import Invoice
from invoices.services import invoice_issue, invoice_record_manual, invoice_red_letter
from tests.invoices.test_pdf import pdf_of, text_of

pytestmark = pytest.mark.django_db

SAMPLE_ZH = "样票 — 非税务机关发票（本地测试开票，backend: local）"
SAMPLE_EN = "Sample — not a tax-authority invoice (issued by the local backend)"


def test_it_marks_a_local_invoice_and_its_red_letter_reversal_as_samples(acme_bill):
    (blue,) = invoice_issue(bill=acme_bill)
    red = invoice_red_letter(blue=blue, reason=2)

    for invoice in (blue, red):
        assert invoice.backend == "local"
        text = text_of(pdf_of(invoice))
        assert SAMPLE_ZH in text
        assert SAMPLE_EN in text
        assert "样票 SAMPLE" in text  # the watermark
        assert invoice.number in text  # still the whole invoice underneath


def test_it_marks_every_page_of_a_local_invoice(acme_bill):
    (blue,) = invoice_issue(bill=acme_bill)

    for page in pdf_of(blue).pages:
        assert "样票 / Sample · backend: local" in page.extract_text()


@pytest.mark.parametrize("backend", ["manual", "nuonuo"])
def test_it_does_not_mark_invoices_issued_on_the_tax_platform(acme_bill, backend):
    (pending,) = invoice_issue(bill=acme_bill, backend=ManualBackend())
    invoice = invoice_record_manual(invoice=pending, number="26312000000000000042", issued_on=date(2026, 11, 5))
    # A nuonuo invoice differs from a manual one here only by the backend it records.
    Invoice.objects.filter(pk=invoice.pk).update(backend=backend)

    text = text_of(pdf_of(invoice))

    assert "26312000000000000042" in text
    assert "样票" not in text
    assert "Sample" not in text
    assert "backend" not in text
