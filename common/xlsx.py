"""XLSX files whose cells Excel can compute with: numbers as numbers, dates as dates.

Every XLSX export goes through :func:`xlsx_response`. A cell gets its type from the value:
money (``djmoney`` ``Money``) → a number with two decimals shown; ``Decimal``, ``int`` and
``float`` → numbers; ``date`` → a date; ``datetime`` → the local time (Excel has no time
zones); anything else → text. Money stays a ``Decimal`` all the way into the file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from djmoney.money import Money

MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_cell(value) -> tuple[object, str | None]:
    """(the value to store, its number format or None for the default)."""
    if value is None:
        return None, None
    if isinstance(value, Money):
        return value.amount, MONEY_FORMAT
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float, Decimal)):
        return value, None
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(timezone.localtime(value))
        return value, DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    return str(value), None


def xlsx_workbook_bytes(*, title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit for sheet names
    sheet.append([str(h) for h in header])
    for r, row in enumerate(rows, start=2):
        for c, raw in enumerate(row, start=1):
            value, number_format = xlsx_cell(raw)
            cell = sheet.cell(row=r, column=c, value=value)
            if number_format:
                cell.number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(*, title: str, header: Sequence[str], rows: Iterable[Sequence], filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_workbook_bytes(title=title, header=header, rows=rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
