"""A provider's price list from finance, as a CSV or XLSX file: one row per model and price key
(and per tier, variant or time-of-day window). For the lists genai-prices lacks — Qwen on
DashScope, Doubao on Volcengine, any CNY list — in one step.

Columns (header row, any order; the first five and ``price`` are required)::

    provider, model, effective_from, currency, key, price,
    tier_start, processing, service_tier, window_from, window_to, weekdays, note

``effective_from`` is a date (00:00 in BILLING_TIME_ZONE, as the API reads it) or an RFC 3339
time; ``currency`` USD or CNY; ``key`` a genai-prices price key (``input_mtok``,
``cache_read_mtok``, ``output_mtok``, …); ``tier_start`` makes the row a long-context tier;
``processing``/``service_tier`` make it part of a variant, ``window_from``/``window_to``
(HH:MM) part of a time-of-day window. Rows with the same provider, model and
``effective_from`` make one price version.

Bounded: at most ``MAX_BYTES``, ``MAX_ROWS`` rows, ``MAX_CELL`` characters a cell, prices
with bounded digits (``pricemaps``). All or nothing: any error (named by line and column)
writes nothing; a version an issued bill used is never changed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from billing.models import Currency, PriceVersion
from billing.periods import billing_tz
from billing.pricing import pricemaps
from billing.pricing.pricerows import rows_map, rows_variants, rows_windows

MAX_BYTES = 2 * 1024 * 1024
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
MAX_ROWS = 5000
MAX_CELL = 200
REQUIRED = ("provider", "model", "effective_from", "currency", "key", "price")
OPTIONAL = ("tier_start", "processing", "service_tier", "window_from", "window_to", "weekdays", "note")


@dataclass
class FileError:
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = _("line %(line)d") % {"line": self.line} if self.line else _("file")
        return f"{where}, {self.field}: {self.message}"


@dataclass
class FileImportReport:
    created: int = 0
    updated: int = 0
    errors: list[FileError] = field(default_factory=list)


class PriceBookFileError(ValidationError):
    def __init__(self, errors: list[FileError]):
        super().__init__([str(e) for e in errors])
        self.file_errors = errors


def _text(value) -> str:
    """A cell as text; a spreadsheet number is read by its shortest repr, never as a binary float."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _read_rows(file_name: str, content: bytes) -> list[list[str]]:
    if len(content) > MAX_BYTES:
        raise PriceBookFileError([FileError(None, "file", _("Larger than 2 MB; split the list."))])
    if file_name.lower().endswith(".xlsx"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise PriceBookFileError([FileError(None, "file", _("The workbook unpacks too large."))])
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append([_text(cell) for cell in row])
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows
        except PriceBookFileError:
            raise
        except Exception as exc:  # a corrupt or foreign file: openpyxl/zipfile raise many kinds
            raise PriceBookFileError([FileError(None, "file", _("Not a readable XLSX workbook."))]) from exc
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PriceBookFileError([FileError(None, "file", _("A CSV file must be UTF-8."))]) from None
    rows = []
    for row in csv.reader(io.StringIO(text)):
        rows.append([cell.strip() for cell in row])
        if len(rows) > MAX_ROWS + 1:
            break
    return rows


def _effective_from(value: str) -> datetime | None:
    try:
        day = parse_date(value) if len(value) == 10 else None
        moment = None if day is not None else parse_datetime(value)
    except ValueError:
        return None
    if day is not None:
        return datetime.combine(day, time.min, tzinfo=billing_tz())
    if moment is None or moment.tzinfo is None:
        return None
    return moment


@dataclass
class _Version:
    line: int
    provider: str
    model: str
    effective_from: datetime
    currency: str
    note: str = ""
    prices: list[dict] = field(default_factory=list)
    variants: list[dict] = field(default_factory=list)
    windows: list[dict] = field(default_factory=list)


def price_book_file_parse(*, file_name: str, content: bytes) -> list[_Version]:
    """The versions a file describes; ``PriceBookFileError`` lists every bad line and column."""
    rows = _read_rows(file_name, content)
    if not rows:
        raise PriceBookFileError([FileError(None, "file", _("The file is empty."))])
    header = [name.strip().lower() for name in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name and name not in REQUIRED + OPTIONAL]
    if missing or unknown:
        errors = [FileError(1, name, _("Missing column.")) for name in missing]
        errors += [FileError(1, name[:MAX_CELL], _("Unknown column.")) for name in unknown]
        raise PriceBookFileError(errors)
    if len(rows) > MAX_ROWS + 1:
        raise PriceBookFileError([FileError(None, "file", _("More than %(n)d rows.") % {"n": MAX_ROWS})])
    errors: list[FileError] = []
    versions: dict[tuple, _Version] = {}
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue
        record = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
        too_long = [name for name, value in record.items() if len(value) > MAX_CELL]
        if too_long:
            errors += [FileError(line, name, _("Longer than %(n)d characters.") % {"n": MAX_CELL}) for name in too_long]
            continue
        bad = False
        for name in ("provider", "model", "key", "price"):
            if not record[name]:
                errors.append(FileError(line, name, _("Required.")))
                bad = True
        moment = _effective_from(record["effective_from"])
        if moment is None:
            errors.append(FileError(line, "effective_from", _("A date (YYYY-MM-DD) or an RFC 3339 time with offset.")))
            bad = True
        if record["currency"] not in Currency.values:
            errors.append(FileError(line, "currency", _("USD or CNY.")))
            bad = True
        if record.get("key") and record["key"] not in pricemaps.price_keys():
            errors.append(FileError(line, "key", _("Unknown price key (see genai-prices' unit registry).")))
            bad = True
        in_variant = bool(record.get("processing") or record.get("service_tier"))
        in_window = bool(record.get("window_from") or record.get("window_to") or record.get("weekdays"))
        if in_variant and in_window:
            errors.append(FileError(line, "processing", _("A row is a variant's or a window's, not both.")))
            bad = True
        if bad:
            continue
        key = (record["provider"], record["model"], moment)
        version = versions.get(key)
        if version is None:
            version = versions[key] = _Version(line, record["provider"], record["model"], moment, record["currency"])
        elif version.currency != record["currency"]:
            errors.append(
                FileError(line, "currency", _("Differs from line %(line)d of this version.") % {"line": version.line})
            )
            continue
        version.note = version.note or record.get("note", "")
        row = {"key": record["key"], "start": record.get("tier_start", ""), "price": record["price"], "line": line}
        if in_variant:
            version.variants.append(
                {**row, "processing": record.get("processing", ""), "service_tier": record.get("service_tier", "")}
            )
        elif in_window:
            version.windows.append(
                {
                    **row,
                    "from": record.get("window_from", ""),
                    "to": record.get("window_to", ""),
                    "weekdays": record.get("weekdays", ""),
                }
            )
        else:
            version.prices.append(row)
    for version in versions.values():
        where = f"{version.provider}/{version.model}"
        problems: list[str] = []
        prices = rows_map(version.prices, "prices", problems)
        variants = rows_variants(version.variants, problems)
        windows = rows_windows(version.windows, problems)
        errors += [FileError(version.line, where, problem) for problem in problems]
        if problems:
            continue
        try:
            version.prices, version.variants, version.windows = pricemaps.price_maps_clean(prices, variants, windows)
        except ValidationError as exc:
            errors += [
                FileError(version.line, f"{where} {path}", " ".join(messages))
                for path, messages in exc.message_dict.items()
            ]
    if errors:
        raise PriceBookFileError(sorted(errors, key=lambda e: (e.line or 0, e.field)))
    return list(versions.values())


@transaction.atomic
def price_book_file_import(*, file_name: str, content: bytes, by=None) -> FileImportReport:
    """Parse, then write every version (or none): an error or a locked version rolls back all."""
    from billing.pricing.services import LockedError, price_version_set

    report = FileImportReport()
    for version in price_book_file_parse(file_name=file_name, content=content):
        try:
            _saved, created = price_version_set(
                provider=version.provider,
                model=version.model,
                effective_from=version.effective_from,
                currency=version.currency,
                prices=version.prices,
                variants=version.variants,
                windows=version.windows,
                source=PriceVersion.Source.FILE,
                note=(version.note or _("price-book file %(name)s") % {"name": file_name})[:300],
                by=by,
            )
        except LockedError as exc:
            raise PriceBookFileError(
                [FileError(version.line, f"{version.provider}/{version.model}", exc.message)]
            ) from exc
        report.created += int(created)
        report.updated += int(not created)
    return report


def price_book_template_rows() -> list[list[str]]:
    """A filled-in example (Qwen-Plus on DashScope, CNY): what the admin offers to download."""
    return [
        [
            "provider",
            "model",
            "effective_from",
            "currency",
            "key",
            "price",
            "tier_start",
            "processing",
            "service_tier",
            "window_from",
            "window_to",
            "weekdays",
            "note",
        ],
        [
            "dashscope",
            "qwen-plus",
            "2026-11-01",
            "CNY",
            "input_mtok",
            "0.8",
            "",
            "",
            "",
            "",
            "",
            "",
            "DashScope list price",
        ],
        ["dashscope", "qwen-plus", "2026-11-01", "CNY", "input_mtok", "2.4", "128000", "", "", "", "", "", ""],
        ["dashscope", "qwen-plus", "2026-11-01", "CNY", "cache_read_mtok", "0.16", "", "", "", "", "", "", ""],
        ["dashscope", "qwen-plus", "2026-11-01", "CNY", "output_mtok", "2", "", "", "", "", "", "", ""],
        ["dashscope", "qwen-plus", "2026-11-01", "CNY", "input_mtok", "0.4", "", "batch", "", "", "", "", ""],
        ["dashscope", "qwen-plus", "2026-11-01", "CNY", "output_mtok", "1", "", "batch", "", "", "", "", ""],
    ]
