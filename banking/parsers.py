"""Reading bank statement files: MT940 (the ``mt-940`` library), camt.053 (XML read with
defusedxml) and the CSV / XLSX exports of Chinese online banking.

Every reader is bounded (file size, lines, digits, text lengths) and all-or-nothing: the
first bad line raises :class:`StatementError` naming the line and the field, and nothing
of the file is kept. Only CNY statements are read (bills are settled in CNY).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from banking.models import MAX_ACCOUNT, MAX_MEMO, MAX_NAME, MAX_REFERENCE, StatementFormat

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_LINES = 20_000
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_INTEGER_DIGITS = 12  # amounts up to 999,999,999,999.99 (the money fields hold 14 digits)
HEADER_SEARCH_ROWS = 30  # exports put an account block above the header row
CURRENCY = "CNY"
ROLES = ("date", "amount", "payer_name", "payer_account", "memo", "bank_reference")
OPTIONAL_ROLES = ("debit_amount", "currency")
ENCODINGS = ("utf-8", "gbk")
TEXT_LIMITS = {
    "payer_name": MAX_NAME,
    "payer_account": MAX_ACCOUNT,
    "memo": MAX_MEMO,
    "bank_reference": MAX_REFERENCE,
}


class StatementError(ValueError):
    """A file that cannot be read as its format says; ``field`` names what is wrong (the
    API's error key) and the message the line."""

    def __init__(self, field: str, message: str, line: int | None = None):
        self.field = field
        self.line = line
        self.message = (_("Line %(line)s: %(message)s") % {"line": line, "message": message}) if line else message
        super().__init__(self.message)


@dataclass(frozen=True)
class StatementLine:
    line: int
    date: date
    amount: Decimal  # > 0; the direction says which way
    direction: str  # "credit" | "debit"
    payer_name: str = ""
    payer_account: str = ""
    memo: str = ""
    bank_reference: str = ""
    reversal: bool = False  # MT940 RC/RD: the bank undoing an earlier entry, not a payment


@dataclass
class ParsedStatement:
    lines: list[StatementLine]
    account: str = ""


# --- Fields ---------------------------------------------------------------------------

AMOUNT = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?$")
DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
    re.compile(r"^(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})"),
    re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(\d{6})?$"),
)


def parse_amount(raw: str, *, field: str = "amount", line: int | None = None) -> Decimal:
    """A plain decimal (thousands commas allowed), at most two decimals and 12 integer digits."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace("¥", "").replace(" ", "")
    if not AMOUNT.match(text):
        raise StatementError(
            field,
            _("“%(value)s” in %(field)s is not an amount such as 1234.50.") % {"value": raw, "field": field},
            line,
        )
    value = Decimal(text.replace(",", ""))
    if len(str(int(abs(value)))) > MAX_INTEGER_DIGITS:
        raise StatementError(field, _("The amount in %(field)s has too many digits.") % {"field": field}, line)
    return value.quantize(Decimal("0.01"))


def parse_date(raw, *, field: str = "date", line: int | None = None) -> date:
    if isinstance(raw, date):
        return raw if type(raw) is date else raw.date()
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    for pattern in DATE_FORMATS:
        found = pattern.match(text)
        if found:
            try:
                return date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                break
    raise StatementError(
        field, _("“%(value)s” in %(field)s is not a date (YYYY-MM-DD).") % {"value": text[:40], "field": field}, line
    )


def _text(raw, field: str, line: int | None) -> str:
    text = unicodedata.normalize("NFC", "" if raw is None else str(raw))
    text = " ".join(text.split())  # no line breaks or tabs…
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")  # …nor NUL and the like
    if text.startswith("'") and field in ("payer_account", "bank_reference"):
        text = text[1:]  # exports quote long numbers so that Excel keeps their digits
    if text.endswith(".0") and field == "payer_account" and text[:-2].isdigit():
        text = text[:-2]
    limit = TEXT_LIMITS[field]
    if len(text) > limit:
        raise StatementError(
            field, _("%(field)s is longer than %(limit)s characters.") % {"field": field, "limit": limit}, line
        )
    return text


def _currency(raw: str, field: str = "currency", line: int | None = None) -> None:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().upper()
    if text and text not in (CURRENCY, "RMB", "人民币", "156"):
        raise StatementError(
            field,
            _("The statement is in %(currency)s; only CNY statements can be imported (bills are settled in CNY).")
            % {"currency": text[:10]},
            line,
        )


def _bounded(lines: list, line: int | None = None) -> None:
    if len(lines) > MAX_LINES:
        raise StatementError(
            "file",
            _("The file has more than %(max)s transactions; export a shorter period.") % {"max": f"{MAX_LINES:,}"},
            line,
        )


# --- MT940 --------------------------------------------------------------------------------

MT940_LINE_61 = re.compile(r"^:61:(?P<date>\d{6})(\d{4})?R?[CD][A-Z]?(?P<amount>[\d,]+)")


def _mt940_prescan(text: str) -> None:
    """What the library would not say (or say without a line): a value date that does not
    exist (it turns 30 February into 28 February) and an amount with too many digits."""
    count = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.startswith(":61:"):
            continue
        count += 1
        if count > MAX_LINES:
            _bounded([None] * count, number)
        found = MT940_LINE_61.match(raw)
        if not found:
            raise StatementError("amount", _("The :61: statement line cannot be read."), number)
        y, m, d = found["date"][:2], found["date"][2:4], found["date"][4:]
        try:
            date(2000 + int(y), int(m), int(d))
        except ValueError:
            raise StatementError(
                "date", _("The value date %(value)s does not exist.") % {"value": found["date"]}, number
            ) from None
        integer = found["amount"].split(",")[0]
        if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS or found["amount"].count(",") != 1:
            raise StatementError("amount", _("“%(value)s” is not an amount.") % {"value": found["amount"]}, number)


def _line_numbers(text: str, tag: str) -> list[int]:
    return [n for n, raw in enumerate(text.splitlines(), start=1) if raw.startswith(tag)]


def parse_mt940(content: bytes) -> ParsedStatement:
    import mt940
    from mt940.models import Transactions

    text = _decode(content, "utf-8", allow_fallback=True)
    if ":20:" not in text or ":60" not in text:
        raise StatementError("file", _("This is not an MT940 statement (no :20: and :60F: fields)."))
    _mt940_prescan(text)
    processors = {key: list(value) for key, value in Transactions.DEFAULT_PROCESSORS.items()}
    processors["pre_statement"] = []  # a 30 February is an error, not the 28th
    options = mt940.Options(applicant_iban=True, strip_bom=True, unbounded_details=True, reversal_sign=True)
    try:
        transactions = mt940.models.Transactions(processors=processors, options=options)
        transactions.parse(text)
    except (ValueError, RuntimeError, KeyError, TypeError, InvalidOperation) as exc:
        raise StatementError("file", _("The MT940 file cannot be read: %(error)s") % {"error": str(exc)[:200]}) from exc
    _currency(transactions.data.get("currency") or "", "currency")
    numbers = _line_numbers(text, ":61:")
    lines = []
    for index, transaction in enumerate(transactions):
        data = transaction.data
        number = numbers[index] if index < len(numbers) else None
        amount = data["amount"]
        _currency(getattr(amount, "currency", "") or "", "currency", number)
        value = Decimal(amount.amount)
        memo = data.get("purpose") if data.get("purpose") is not None else data.get("transaction_details")
        lines.append(
            StatementLine(
                line=number or index + 1,
                date=date(data["date"].year, data["date"].month, data["date"].day),
                amount=abs(value),
                direction="debit" if value < 0 else "credit",
                payer_name=_text(data.get("applicant_name") or "", "payer_name", number),
                payer_account=_text(data.get("applicant_iban") or "", "payer_account", number),
                memo=_text(memo or "", "memo", number),
                bank_reference=_text(data.get("bank_reference") or "", "bank_reference", number),
                reversal=str(data.get("status") or "").upper().startswith("R"),
            )
        )
    return ParsedStatement(lines=lines, account=str(transactions.data.get("account_identification") or "")[:64])


# --- camt.053 -------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element, *path: str):
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element, name: str) -> list:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _value(element, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def parse_camt053(content: bytes) -> ParsedStatement:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise StatementError(
            "file", _("This is not a camt.053 XML file: %(error)s") % {"error": str(exc)[:200]}
        ) from exc
    stmt_root = _child(root, "BkToCstmrStmt")
    if _local(root.tag) != "Document" or stmt_root is None:
        raise StatementError("file", _("This is not a camt.053 statement (no Document/BkToCstmrStmt)."))
    lines: list[StatementLine] = []
    account = ""
    number = 0
    for statement in _children(stmt_root, "Stmt"):
        acct = _child(statement, "Acct")
        account = account or _value(acct, "Id", "IBAN") or _value(acct, "Id", "Othr", "Id")
        _currency(_value(acct, "Ccy"), "currency")
        for entry in _children(statement, "Ntry"):
            number += 1
            _bounded(lines, number)
            lines.extend(_camt_entry(entry, number))
    return ParsedStatement(lines=lines, account=account[:64])


def _camt_entry(entry, number: int) -> list[StatementLine]:
    where = _("entry %(n)s") % {"n": number}

    def fail(field: str, message: str):
        return StatementError(field, f"{where}: {message}")

    direction = {"CRDT": "credit", "DBIT": "debit"}.get(_value(entry, "CdtDbtInd"))
    if direction is None:
        raise fail("direction", _("CdtDbtInd must be CRDT or DBIT."))
    raw_day = _value(entry, "ValDt", "Dt") or _value(entry, "ValDt", "DtTm")[:10]
    raw_day = raw_day or _value(entry, "BookgDt", "Dt") or _value(entry, "BookgDt", "DtTm")[:10]
    try:
        day = parse_date(raw_day)
    except StatementError as exc:
        raise fail("date", exc.message) from exc
    details = _children(_child(entry, "NtryDtls"), "TxDtls")
    if len(details) <= 1:
        parts = [(details[0] if details else None, _child(entry, "Amt"))]
    else:  # a batch booking: one transaction per TxDtls, each with its own amount
        parts = [(d, _child(d, "Amt") or _child(d, "AmtDtls", "TxAmt", "Amt")) for d in details]
    entry_reference = _value(entry, "AcctSvcrRef")
    lines = []
    for index, (tx, amount) in enumerate(parts):
        if amount is None:
            raise fail("amount", _("Amt is missing."))
        try:
            _currency(amount.get("Ccy", ""))
            value = parse_amount(amount.text or "")
        except StatementError as exc:
            raise fail(exc.field, exc.message) from exc
        if value <= 0:
            raise fail("amount", _("The amount must be greater than zero (the direction is CdtDbtInd)."))
        parties = _child(tx, "RltdPties")
        party = "Dbtr" if direction == "credit" else "Cdtr"
        name = _value(parties, party, "Nm") or _value(parties, party, "Pty", "Nm")
        account = _value(parties, f"{party}Acct", "Id", "IBAN") or _value(parties, f"{party}Acct", "Id", "Othr", "Id")
        remittance = _child(tx, "RmtInf")
        memo_parts = [(u.text or "").strip() for u in _children(remittance, "Ustrd")]
        for structured in _children(remittance, "Strd"):
            memo_parts.append(_value(structured, "CdtrRefInf", "Ref"))
            memo_parts.extend((u.text or "").strip() for u in _children(structured, "AddtlRmtInf"))
        memo = " ".join(p for p in memo_parts if p) or _value(entry, "AddtlNtryInf")
        reference = _value(tx, "Refs", "AcctSvcrRef") or (
            entry_reference if len(parts) == 1 else f"{entry_reference}/{index + 1}" if entry_reference else ""
        )
        try:
            lines.append(
                StatementLine(
                    line=number,
                    date=day,
                    amount=value,
                    direction=direction,
                    payer_name=_text(name, "payer_name", None),
                    payer_account=_text(account, "payer_account", None),
                    memo=_text(memo, "memo", None),
                    bank_reference=_text(reference, "bank_reference", None),
                )
            )
        except StatementError as exc:
            raise fail(exc.field, exc.message) from exc
    return lines


# --- CSV and XLSX exports -------------------------------------------------------------------


def _decode(content: bytes, encoding: str | None, *, allow_fallback: bool = False) -> str:
    """The text of ``content``: UTF-8 (a BOM is dropped) or GBK (GB18030, its superset, as
    Chinese banks' exports contain characters beyond GBK). No encoding given: UTF-8, else GBK."""
    candidates = [encoding] if encoding and not allow_fallback else ["utf-8", "gbk"]
    if encoding and allow_fallback:
        candidates = [encoding, *(c for c in ("utf-8", "gbk") if c != encoding)]
    for candidate in candidates:
        codec = "utf-8-sig" if candidate == "utf-8" else "gb18030"
        try:
            return codecs.decode(content, codec)
        except UnicodeDecodeError:
            continue
    if encoding and not allow_fallback:
        raise StatementError(
            "encoding",
            _("The file is not %(encoding)s text; choose the encoding of the export (utf-8 or gbk).")
            % {"encoding": encoding},
        )
    raise StatementError("encoding", _("The file is neither UTF-8 nor GBK text."))


def _rows_from_csv(content: bytes, encoding: str | None):
    text = _decode(content, encoding)
    if "\x00" in text:
        raise StatementError("file", _("This is not a CSV text file."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for number, row in enumerate(reader, start=1):
            if number > MAX_LINES + HEADER_SEARCH_ROWS + 1:
                _bounded([None] * (MAX_LINES + 1), number)
            yield number, row
    except csv.Error as exc:
        raise StatementError("file", _("The CSV cannot be read: %(error)s") % {"error": exc}, reader.line_num) from exc


def _rows_from_xlsx(content: bytes):
    from zipfile import BadZipFile, ZipFile

    from openpyxl import load_workbook

    try:
        # A workbook is a zip: a small file may unpack to gigabytes (a zip bomb).
        unpacked = sum(info.file_size for info in ZipFile(io.BytesIO(content)).infolist())
    except (BadZipFile, ValueError, OSError) as exc:
        raise StatementError("file", _("This is not an XLSX workbook: %(error)s") % {"error": str(exc)[:200]}) from exc
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise StatementError("file", _("The workbook unpacks to more than 200 MB; export a shorter period."))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise StatementError("file", _("This is not an XLSX workbook: %(error)s") % {"error": str(exc)[:200]}) from exc
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_LINES + HEADER_SEARCH_ROWS + 1:
                _bounded([None] * (MAX_LINES + 1), number)
            yield number, ["" if v is None else v for v in row]
    finally:
        book.close()


def _header_key(text) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split())


EXCEL_TEXT = re.compile(r'^="(.*)"$')


def _cell_text(value) -> str:
    if isinstance(value, str):
        quoted = EXCEL_TEXT.match(value.strip())  # ="6222…": exports keep long numbers as text so
        return quoted.group(1) if quoted else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal | int | float):
        return format(Decimal(str(value)), "f")
    return "" if value is None else str(value)


def parse_table(rows, columns: dict[str, str]) -> ParsedStatement:
    """Rows of an export: the header row is the first (of the first 30) that holds the date
    and amount columns; every later non-empty row is a transaction."""
    wanted = {
        role: [c for c in (columns.get(role) or "").split("|") if c.strip()] for role in (*ROLES, *OPTIONAL_ROLES)
    }
    for role in ("date", "amount"):
        if not wanted[role]:
            raise StatementError(role, _("Name the column that holds %(role)s.") % {"role": role})
    header: dict[str, int] | None = None
    positions: dict[str, list[int]] = {}
    lines: list[StatementLine] = []
    for number, row in rows:
        if header is None:
            keys = [_header_key(c) for c in row]
            if _header_key(wanted["date"][0]) in keys and _header_key(wanted["amount"][0]) in keys:
                header = {k: i for i, k in enumerate(keys) if k}
                for role, names in wanted.items():
                    missing = [n for n in names if _header_key(n) not in header]
                    if missing:
                        raise StatementError(
                            role,
                            _("No column “%(column)s” in the header row.") % {"column": missing[0]},
                            number,
                        )
                    positions[role] = [header[_header_key(n)] for n in names]
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        cells = [_cell_text(c).strip() for c in row]
        if not any(cells):
            continue
        if cells[0].startswith(("合计", "总计", "共", "Total", "#")):
            continue  # the totals line under the table

        def cell(role: str, cells=cells) -> str:
            return " ".join(cells[i] for i in positions.get(role, []) if i < len(cells) and cells[i])

        _bounded(lines, number)
        lines.append(_table_line(number, cell, row, positions))
    if header is None:
        raise StatementError(
            "date",
            _("No header row with the columns “%(date)s” and “%(amount)s” in the first %(n)s rows.")
            % {"date": wanted["date"][0], "amount": wanted["amount"][0], "n": HEADER_SEARCH_ROWS},
        )
    return ParsedStatement(lines=lines)


def _table_line(number: int, cell, row, positions) -> StatementLine:
    raw_date = row[positions["date"][0]] if positions["date"][0] < len(row) else ""
    day = parse_date(raw_date if isinstance(raw_date, date) else cell("date"), line=number)
    if positions.get("currency"):
        _currency(cell("currency"), "currency", number)
    credit_text, debit_text = cell("amount"), cell("debit_amount")
    credit = parse_amount(credit_text, line=number) if credit_text and credit_text != "-" else Decimal(0)
    debit = parse_amount(debit_text, field="debit_amount", line=number) if debit_text and debit_text != "-" else None
    if credit < 0:  # one signed amount column: negative is money out
        amount, direction = -credit, "debit"
    elif credit > 0:
        amount, direction = credit, "credit"
    elif debit:
        amount, direction = abs(debit), "debit"
    else:
        raise StatementError("amount", _("The line has no amount."), number)
    return StatementLine(
        line=number,
        date=day,
        amount=amount,
        direction=direction,
        payer_name=_text(cell("payer_name"), "payer_name", number),
        payer_account=_text(cell("payer_account"), "payer_account", number),
        memo=_text(cell("memo"), "memo", number),
        bank_reference=_text(cell("bank_reference"), "bank_reference", number),
    )


def parse_statement(
    *, format: str, content: bytes, columns: dict[str, str] | None = None, encoding: str | None = None
) -> ParsedStatement:
    if len(content) > MAX_FILE_BYTES:
        raise StatementError("file", _("The file is larger than 20 MB."))
    if not content.strip():
        raise StatementError("file", _("The file is empty."))
    if format == StatementFormat.MT940:
        return parse_mt940(content)
    if format == StatementFormat.CAMT053:
        return parse_camt053(content)
    if format == StatementFormat.CSV:
        if content[:4] == b"PK\x03\x04":
            raise StatementError("format", _("This is an XLSX workbook, not CSV: choose the format xlsx."))
        return parse_table(_rows_from_csv(content, encoding), columns or {})
    if format == StatementFormat.XLSX:
        return parse_table(_rows_from_xlsx(content), columns or {})
    raise StatementError("format", _("Unknown format."))
