"""The invoice PDF in the 数电票 layout (text that extracts back, the project's CJK font
embedded), and its e-mail to the buyer, sent once."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from billing.pricing.money import rmb_upper
from invoices.documents import invoice_render_pdf
from invoices.models import Invoice
from invoices.services import invoice_issue, invoice_red_letter
from invoices.tasks import invoice_render_and_send

pytestmark = pytest.mark.django_db


def pdf_of(invoice: Invoice) -> PdfReader:
    invoice = invoice_render_pdf(invoice_id=invoice.pk)
    with invoice.pdf.open("rb") as handle:
        return PdfReader(io.BytesIO(handle.read()))


def text_of(reader: PdfReader) -> str:
    return "".join(page.extract_text() for page in reader.pages)


def base_fonts(reader: PdfReader) -> set[str]:
    fonts = set()
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(ref.get_object()["/BaseFont"]))
    return fonts


@pytest.fixture
def blue(acme_bill) -> Invoice:
    (invoice,) = invoice_issue(bill=acme_bill)
    return invoice


def test_it_prints_the_number_the_buyer_tax_id_and_the_uppercase_total(blue, acme):
    text = text_of(pdf_of(blue))

    assert blue.number in text
    assert acme.tax_id in text
    assert "价税合计" in text
    assert rmb_upper(Decimal("12345.67")) == "壹万贰仟叁佰肆拾伍圆陆角柒分"
    assert "壹万贰仟叁佰肆拾伍圆陆角柒分" in text
    assert "¥12,345.67" in text
    assert "电子发票（增值税专用发票）" in text
    assert "*其他软件服务*大模型API调用服务" in text
    assert "开票人" in text and "王会计" in text


def test_it_prints_a_red_invoice_with_a_negative_uppercase_total(blue):
    red = invoice_red_letter(blue=blue, reason=4, amount=Decimal("133.02"))  # 133.02 + 7.98 = 141.00

    text = text_of(pdf_of(red))

    assert red.number in text
    assert "(负数)壹佰肆拾壹圆整" in text
    assert "-¥141.00" in text
    assert blue.number in text  # the blue invoice it reverses


def test_it_embeds_the_projects_cjk_font(blue):
    fonts = base_fonts(pdf_of(blue))

    assert fonts
    assert all("NotoSansCJK" in name for name in fonts), fonts


def test_it_emails_the_invoice_once_with_the_pdf_attached(acme_bill, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (invoice,) = invoice_issue(bill=acme_bill)

    assert invoice_render_and_send.delay(invoice.pk).get() == "already sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [acme.email]
    assert invoice.number in message.subject
    assert "壹万贰仟叁佰肆拾伍圆陆角柒分" in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert invoice.number in text_of(PdfReader(io.BytesIO(content)))
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None
