"""Every CSV and XLSX export, in one place: text cells are always text, numbers numbers.

A spreadsheet evaluates a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some,
a tab or a carriage return) as a formula: a key, a model or a 发票抬头 named
``=HYPERLINK(…)`` would reach finance as a live formula. So (OWASP, "CSV Injection"):

- CSV: a text cell beginning with one of FORMULA_LEADS is written with a leading ``'``;
- XLSX: a text cell is stored as a string cell (never a formula), and one beginning with
  one of FORMULA_LEADS is marked with Excel's quote prefix as typing ``'=…`` would.

Numbers stay numbers: ``Decimal``, ``int``, ``float`` and ``Money`` (its amount) are written
as numbers in CSV (a negative one unprefixed) and as numeric cells in XLSX; ``date`` and
``datetime`` as dates (ISO 8601 in CSV, the local time in XLSX: Excel has no time zones).
Callers pass numbers as numbers, never pre-formatted as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from djmoney.money import Money

from common.files import file_response

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def neutral_text(text: str) -> str:
    """A text cell for CSV: led by ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def csv_cell(value) -> str:
    # The common exact types first (a streamed file writes millions of cells); the checks
    # below give the same for them.
    kind = type(value)
    if kind is str:
        return neutral_text(value)
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Money):
        return f"{value.amount:.2f}"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return _local(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return neutral_text(str(value))


def csv_chunks(
    header: Sequence, rows: Iterable[Sequence], *, bom: bool = True, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """The CSV text in pieces of ``rows_per_chunk`` rows, reading ``rows`` lazily: a file of a
    million rows never sits in memory whole. ``bom``: led by a UTF-8 BOM, without which Excel
    misreads Chinese."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(h) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(v) for v in row])
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_content(header: Sequence, rows: Iterable[Sequence], *, bom: bool = True) -> str:
    """The CSV text whole (``csv_chunks`` joined)."""
    return "".join(csv_chunks(header, rows, bom=bom))


def csv_response(*, header: Sequence, rows: Iterable[Sequence], filename: str, bom: bool = True) -> HttpResponse:
    """A CSV attachment (common.files.file_response: private, no-store, a safe filename)."""
    return file_response(csv_content(header, rows, bom=bom), filename=filename, content_type=CSV_CONTENT_TYPE)


def csv_stream_response(
    *, header: Sequence, rows: Iterable[Sequence], filename: str, bom: bool = True
) -> StreamingHttpResponse:
    """A CSV attachment streamed in pieces (``csv_chunks``; e.g. usage records: ``rows`` a
    queryset's ``.iterator()``, a server-side cursor), with the same headers as every other
    download (common.files.file_response)."""
    return file_response(csv_chunks(header, rows, bom=bom), filename=filename, content_type=CSV_CONTENT_TYPE)


def xlsx_cell(value) -> tuple[object, str | None]:
    """(the value to store, its number format or None for the default); text as ``str``."""
    if value is None:
        return None, None
    if isinstance(value, Money):
        return value.amount, MONEY_FORMAT
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float, Decimal)):
        return value, None
    if isinstance(value, datetime):
        return _local(value).replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    return str(value), None


def xlsx_workbook_bytes(
    *, title: str, header: Sequence, rows: Iterable[Sequence], number_formats: dict[int, str] | None = None
) -> bytes:
    """One sheet: the header, then the rows. ``number_formats``: column index (0-based) → the
    format of that column's numbers (e.g. ``#,##0.00``), over the default."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(title)[:31]  # Excel's limit for sheet names
    for r, row in enumerate([[str(h) for h in header], *rows], start=1):
        for c, raw in enumerate(row, start=1):
            value, number_format = xlsx_cell(raw)
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl makes "=…" a formula: text stays text
                if value.startswith(FORMULA_LEADS):
                    cell.quotePrefix = True
            elif number_formats and (c - 1) in number_formats and isinstance(value, (int, float, Decimal)):
                cell.number_format = number_formats[c - 1]
            elif number_format:
                cell.number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    *,
    title: str,
    header: Sequence,
    rows: Iterable[Sequence],
    filename: str,
    number_formats: dict[int, str] | None = None,
) -> HttpResponse:
    content = xlsx_workbook_bytes(title=title, header=header, rows=rows, number_formats=number_formats)
    return file_response(content, filename=filename, content_type=XLSX_CONTENT_TYPE)
