"""The bill PDF (对账单): rendered after issue by the eager task, stored, served, e-mailed once.

ACME's November: minimum commitment 5,000.00 with 39.55 of usage (8 % discount, 7.1456):
top-up 4,960.45, VAT 300.00, total 5,300.00 (伍仟叁佰圆整).
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from billing import tasks
from billing.models import Bill
from billing.pricing.money import rmb_upper
from common.pdf import PDF_FONT_FAMILY
from tests.billing.close_helpers import (
    NOV,
    close,
    ingest,
    key_for,
    only,
    price,
    rate,
    record,
    set_terms,
    shanghai,
    travel,
)

ACME_NAME = "上海阿克米信息技术有限公司"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def acme_for_pdf(acme):
    set_terms(acme, discount_percent=Decimal("8"), minimum_monthly_commitment=Decimal("5000.00"))
    acme.billing_cc = ["cfo@acme.example.cn"]
    acme.save()
    price()
    rate(NOV, "7.1456")
    key = key_for(acme)
    ingest(
        record(key, input=1_000_000, cached=200_000, output=300_000, at=shanghai(2026, 11, 3, 9)),
        record(key, input=123_457, output=45_679, at=shanghai(2026, 11, 17, 15)),
        now=shanghai(2026, 11, 30),
    )
    return acme


@pytest.fixture
def issued(acme_for_pdf, django_capture_on_commit_callbacks):
    """Close November; the on-commit task renders the PDF and sends the e-mail."""
    with travel(2026, 12, 1), django_capture_on_commit_callbacks(execute=True):
        bill = only(close(acme_for_pdf))
    bill.refresh_from_db()
    return bill


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def embedded_fonts(data: bytes) -> dict[str, tuple[str, str]]:
    """BaseFont → (family in the descriptor, family in the embedded font program's name table)
    for every font the pages use; a font without an embedded program has "" as the latter."""
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                program = ""
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        embedded = TTFont(io.BytesIO(descriptor[key].get_object().get_data()))
                        program = embedded["name"].getDebugName(1)
                fonts[str(font["/BaseFont"])] = (str(descriptor.get("/FontFamily", "")), program)
    return fonts


def test_it_renders_and_stores_the_pdf_after_issue(issued):
    assert issued.total.amount == Decimal("5300.00")
    assert issued.pdf_rendered_at is not None
    assert issued.pdf.name.endswith("BILL-ACME-202611.pdf")
    with issued.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert issued.events.filter(kind="pdf_rendered").count() == 1


def test_it_serves_the_pdf_with_the_customer_the_total_and_the_uppercase_total(issued, finance_client, alice_client):
    response = finance_client.get("/api/v1/bills/BILL-ACME-202611/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="BILL-ACME-202611.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert ACME_NAME in text
    assert "BILL-ACME-202611" in text
    assert "¥5,300.00" in text  # one money format (common/templatetags/money.py)
    assert rmb_upper(Decimal("5300.00")) == "伍仟叁佰圆整"
    assert "伍仟叁佰圆整" in text
    assert "¥4,960.45" in text  # the top-up line
    assert "2026-12-31" in text  # due date
    assert alice_client.get("/api/v1/bills/BILL-ACME-202611/pdf/").content == response.content


def test_it_embeds_the_projects_cjk_font_and_no_other(issued):
    with issued.pdf.open("rb") as handle:
        fonts = embedded_fonts(handle.read())
    # Regular and bold of the project's family (named after Noto Sans CJK, base.html), with
    # the Noto Sans CJK SC program embedded, and nothing else: the chart's labels included
    # (inline SVG does not inherit the page's font; they used to pull in DejaVu Sans).
    family = PDF_FONT_FAMILY.replace(" ", "-")
    assert {name.split("+", 1)[1] for name in fonts} == {family, f"{family}-Bold"}
    assert all("NotoSansCJK" in name for name in fonts)
    assert set(fonts.values()) == {(PDF_FONT_FAMILY, "Noto Sans CJK SC")}


def test_it_emails_the_pdf_to_the_billing_contacts_once(issued, acme_for_pdf, django_capture_on_commit_callbacks):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@acme.example.cn", "cfo@acme.example.cn"]
    assert "BILL-ACME-202611" in message.subject
    assert "¥5,300.00" in message.body
    assert "伍仟叁佰圆整" in message.body
    (filename, content, mimetype), (statement_name, statement, statement_type) = message.attachments
    assert (filename, mimetype) == ("BILL-ACME-202611.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    assert ACME_NAME in pdf_text(content)
    # The statement of account (对账函) from the first of the bill's month to its issue day.
    assert (statement_name, statement_type) == ("STATEMENT-ACME-20261101-20261201.pdf", "application/pdf")
    statement_text = pdf_text(statement)
    assert "对账函" in "".join(statement_text.split()) and "BILL-ACME-202611" in statement_text
    assert "伍仟叁佰圆整" in statement_text  # the closing balance: the bill, nothing paid yet
    assert issued.emailed_at is not None
    assert issued.events.filter(kind="emailed").get().data == {"to": ["ap@acme.example.cn", "cfo@acme.example.cn"]}

    # A second close, and the task run again, do not resend.
    with travel(2026, 12, 2), django_capture_on_commit_callbacks(execute=True):
        assert close(acme_for_pdf)[0].action == "unchanged"
    assert tasks.bill_render_and_send.delay(issued.pk).get() == "already sent"
    assert len(mail.outbox) == 1


def test_it_renders_the_pdf_again_when_the_file_is_gone(issued, finance_client):
    issued.pdf.delete(save=True)
    assert not Bill.objects.get(pk=issued.pk).pdf

    response = finance_client.get("/api/v1/bills/BILL-ACME-202611/pdf/")
    assert response.status_code == 200
    assert "伍仟叁佰圆整" in pdf_text(response.content)
    assert Bill.objects.get(pk=issued.pk).pdf


def test_it_regenerates_the_pdf_on_request_for_finance(issued, finance_client, alice_client):
    from billing.models import Bill

    bill = issued
    url = f"/api/v1/bills/{bill.number}/pdf/"
    first = finance_client.get(url)
    rendered_at = Bill.objects.get(pk=bill.pk).pdf_rendered_at

    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert alice_client.get(url + "?regenerate=1").status_code == 200
    assert Bill.objects.get(pk=bill.pk).pdf_rendered_at == rendered_at  # a customer cannot force renders
    assert finance_client.get(url + "?regenerate=1").status_code == 200
    assert Bill.objects.get(pk=bill.pk).pdf_rendered_at != rendered_at


def test_a_regenerate_that_is_not_a_boolean_is_a_400_naming_it(issued, finance_client):
    """``?regenerate=false`` used to render again (any value was true); ``null`` is no answer."""
    url = f"/api/v1/bills/{issued.number}/pdf/"
    finance_client.get(url)
    rendered_at = Bill.objects.get(pk=issued.pk).pdf_rendered_at

    assert finance_client.get(url + "?regenerate=false").status_code == 200
    assert Bill.objects.get(pk=issued.pk).pdf_rendered_at == rendered_at
    response = finance_client.get(url + "?regenerate=null")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["regenerate"]


def test_a_pdf_whose_file_is_lost_is_rendered_again(issued, finance_client):
    """The stored file gone (storage wiped, a restore without media): rendered again, not a 500."""
    bill = Bill.objects.get(pk=issued.pk)
    bill.pdf.storage.delete(bill.pdf.name)

    response = finance_client.get(f"/api/v1/bills/{bill.number}/pdf/")

    assert response.status_code == 200
    assert "伍仟叁佰圆整" in pdf_text(response.content)
    bill.refresh_from_db()
    assert bill.pdf.storage.exists(bill.pdf.name)
