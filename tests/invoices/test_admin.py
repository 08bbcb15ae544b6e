"""The invoice admin: the changelist in both languages, read-only documents, and the invoice
register (发票登记簿) exported as CSV and XLSX for the accountant."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from invoices.models import Invoice
from invoices.services import invoice_issue, invoice_red_letter

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:invoices_invoice_changelist")
REGISTER_HEADER = [
    "发票号码",
    "开票日期",
    "发票颜色",
    "发票类型",
    "状态",
    "购买方",
    "购买方税号",
    "账单",
    "金额（不含税）",
    "税率",
    "税额",
    "价税合计",
    "原蓝字发票",
    "红字发票原因",
    "开票人",
]


@pytest.fixture
def invoices(acme_bill) -> list[Invoice]:
    (blue,) = invoice_issue(bill=acme_bill)
    red = invoice_red_letter(blue=blue, reason=4, amount=Decimal("1000.00"), note="年度折让")
    return [blue, red]


def export(admin_client, action: str, invoices: list[Invoice]):
    return admin_client.post(CHANGELIST, {"action": action, "_selected_action": [i.pk for i in invoices]})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_shows_the_changelist_in_both_languages(admin_client, invoices, language):
    response = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert all(i.number in page for i in invoices)


def test_it_shows_an_issued_invoice_read_only(admin_client, invoices):
    blue = invoices[0]

    page = admin_client.get(reverse("admin:invoices_invoice_change", args=[blue.pk]))
    posted = admin_client.post(reverse("admin:invoices_invoice_change", args=[blue.pk]), {"remark": "改过"})

    assert page.status_code == 200
    assert 'name="remark"' not in page.content.decode()
    assert posted.status_code == 403
    blue.refresh_from_db()
    assert blue.remark != "改过"
    assert admin_client.get(reverse("admin:invoices_invoice_delete", args=[blue.pk])).status_code == 403


def test_it_exports_the_register_as_csv_for_excel(admin_client, invoices):
    blue, red = invoices

    response = export(admin_client, "export_register_csv", invoices)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == REGISTER_HEADER
    by_number = {row[0]: row for row in rows[1:]}
    assert set(by_number) == {blue.number, red.number}
    assert by_number[blue.number] == [
        blue.number,
        "2026-11-05",
        "蓝字",
        "增值税专用发票",
        "部分红冲",
        "上海阿克米信息技术有限公司",
        blue.buyer["tax_id"],
        "BILL-ACME-202610",
        "11646.86",
        "0.0600",
        "698.81",
        "12345.67",
        "",
        "",
        "王会计",
    ]
    assert by_number[red.number][2:5] == ["红字", "增值税专用发票", "已开具"]
    assert by_number[red.number][8:14] == ["-1000.00", "0.0600", "-60.00", "-1060.00", blue.number, "销售折让"]


def test_it_exports_the_register_as_xlsx_with_numbers_and_dates_excel_can_compute_with(admin_client, invoices):
    blue, red = invoices

    response = export(admin_client, "export_register_xlsx", invoices)

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["发票登记簿"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == REGISTER_HEADER
    assert [(r[0], r[8], r[10], r[11], r[12] or "") for r in rows[1:]] == [
        (blue.number, 11646.86, 698.81, 12345.67, ""),
        (red.number, -1000, -60, -1060, blue.number),
    ]
    blue_row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == blue.number)
    issued_on, amount, rate, vat, total = blue_row[1], blue_row[8], blue_row[9], blue_row[10], blue_row[11]
    assert issued_on.is_date and issued_on.value.date() == date(2026, 11, 5)
    assert [c.data_type for c in (amount, rate, vat, total)] == ["n", "n", "n", "n"]
    assert [c.number_format for c in (amount, vat, total)] == ["0.00", "0.00", "0.00"]
    assert rate.value == 0.06
    assert blue_row[0].data_type == "s"  # a 20-digit invoice number stays text, never 1.2E+19


def test_a_buyer_named_like_a_formula_reaches_the_register_as_text(admin_client, invoices):
    """Issue 21: a 发票抬头 named ``=HYPERLINK(…)`` was a live formula in finance's register."""
    hostile = '=HYPERLINK("http://evil.example","发票")'
    for invoice in invoices:
        Invoice.objects.filter(pk=invoice.pk).update(buyer={**invoice.buyer, "name": hostile})

    as_csv = export(admin_client, "export_register_csv", invoices)
    as_xlsx = export(admin_client, "export_register_xlsx", invoices)

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert {row[5] for row in rows[1:]} == {"'" + hostile}
    assert {row[8] for row in rows[1:]} == {"11646.86", "-1000.00"}  # numbers unprefixed
    sheet = load_workbook(io.BytesIO(as_xlsx.content))["发票登记簿"]
    buyers = [row[5] for row in sheet.iter_rows(min_row=2)]
    assert {(c.data_type, c.value) for c in buyers} == {("s", hostile)}
    assert {row[8].data_type for row in sheet.iter_rows(min_row=2)} == {"n"}
