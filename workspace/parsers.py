"""Readers of the providers' cost and usage exports, as those APIs and consoles give them.

- OpenAI Costs API (``GET /v1/organization/costs?group_by=line_item``): buckets with
  ``start_time`` (Unix seconds, UTC) and ``results`` of ``{amount: {value, currency},
  line_item, project_id}``; ``line_item`` is ``"<model>, <input|output|cached input…>"``.
  Its CSV download has the columns ``start_time, …, amount_value, amount_currency,
  line_item, project_id``.
- OpenAI completions usage (``GET /v1/organization/usage/completions?group_by=model``):
  buckets whose results carry ``input_tokens`` (cached included), ``input_cached_tokens``,
  ``output_tokens``, ``num_model_requests`` and ``model``; the CSV has the same names.
- Anthropic cost report (``GET /v1/organizations/cost_report?group_by[]=description``):
  buckets with ``starting_at`` (RFC 3339) whose results carry ``amount`` — a decimal
  *string in cents* ("123.45" USD is $1.2345) — ``currency`` and ``model``; a CSV with
  those column names (``starting_at, model, amount, currency, …``) is read the same way.

A parser does not stop at a bad row: it returns the rows it could read and, for the first
MAX_LISTED_ERRORS it could not, where each is (CSV line number, or the JSON path) and which
field is wrong, with the count of the rest; past MAX_BAD_ROWS bad rows the whole file is
refused (it is not the export it claims to be). Amounts are read as Decimal (JSON numbers
included), never as floats. Every number, text and encoding is read by common.uploads
(bounded digits and exponents, integers for counts, UTF-8 or GB18030); a CSV is streamed
row by row, never held whole.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from billing.periods import FIRST_PERIOD, LAST_PERIOD
from common.uploads import UploadError, open_text, parse_decimal, parse_int, read_json, text_field

OPENAI_COSTS = "openai_costs"
OPENAI_USAGE = "openai_usage"
ANTHROPIC_COSTS = "anthropic_costs"
CENTS = Decimal(100)
MAX_LISTED_ERRORS = 100  # stored and shown; the rest are counted
MAX_BAD_ROWS = 1000  # past this many the file is refused whole
MAX_TOKENS = 10**12  # as the meter's (billing.metering.records)
MAX_AMOUNT_EXPONENT = 12  # an amount below 10^13 in the file's currency
MODEL_LENGTH = 100  # ProviderCost.model
LAST_DAY = date(LAST_PERIOD.year, 12, 31)


class UnreadableFile(ValueError):
    """The file is not one of the exports we read (named in the message)."""


@dataclass
class Row:
    day: date
    model: str
    cost: Decimal | None = None
    currency: str = ""
    requests: int | None = None
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass
class RowError:
    field: str
    message: str
    line: int | None = None  # CSV line number (the header is line 1)
    location: str = ""  # JSON path, e.g. data[2].results[0]

    def as_dict(self) -> dict:
        return {"line": self.line, "location": self.location, "field": self.field, "message": self.message}


@dataclass
class Parsed:
    kind: str
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_LISTED_ERRORS
    more_errors: int = 0  # bad rows beyond those listed

    def add_error(self, error: RowError) -> None:
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)
        else:
            self.more_errors += 1
        if len(self.errors) + self.more_errors > MAX_BAD_ROWS:
            raise UnreadableFile(
                _(
                    "More than %(n)d rows could not be read (the first: %(first)s); nothing was imported. "
                    "Is this the export the form asks for?"
                )
                % {"n": MAX_BAD_ROWS, "first": self.first_error()}
            )

    def first_error(self) -> str:
        """``line 2, model: At most 100 characters.`` (or the JSON path for a JSON file)."""
        first = self.errors[0]
        where = _("line %(n)s") % {"n": first.line} if first.line else first.location
        return f"{where}, {first.field}: {first.message}"

    def refuse_if_nothing_read(self) -> None:
        if self.errors and not self.rows:
            raise UnreadableFile(
                _("No row could be read (%(first)s); nothing was imported.") % {"first": self.first_error()}
            )


class BadField(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.field = name


# --- field readers -------------------------------------------------------------------------


def _required(record: dict, name: str):
    value = record.get(name)
    if value is None or value == "":
        raise BadField(name, _("This field is missing."))
    return value


def _tokens(record: dict, name: str, *, required: bool = True) -> int | None:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise BadField(name, _("This field is missing."))
        return None
    try:
        return parse_int(value, minimum=0, maximum=MAX_TOKENS)
    except UploadError as exc:
        raise BadField(name, str(exc)) from None


def _decimal(value, name: str) -> Decimal:
    if value is None or value == "":
        raise BadField(name, _("This field is missing."))
    try:
        return parse_decimal(value, max_exponent=MAX_AMOUNT_EXPONENT)
    except UploadError as exc:
        raise BadField(name, _("Not an amount: %(reason)s") % {"reason": exc}) from None


def _text(value, name: str, max_length: int) -> str:
    try:
        return text_field(value, max_length=max_length)
    except UploadError as exc:
        raise BadField(name, str(exc)) from None


def _currency(value, name: str) -> str:
    code = _text(value or "", name, 3).upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise BadField(name, _("Not a currency code: %(value)s.") % {"value": code})
    return code


def _within_bounds(day: date, name: str) -> date:
    if not FIRST_PERIOD <= day <= LAST_DAY:
        raise BadField(name, _("The day %(day)s is outside 2000–2100.") % {"day": day.isoformat()})
    return day


def _unix_day(value, name: str) -> date:
    try:
        seconds = parse_int(value, minimum=0, maximum=2**40)
        day = datetime.fromtimestamp(seconds, tz=UTC).date()
    except (UploadError, ValueError, OverflowError, OSError):
        raise BadField(name, _("Not a Unix time: %(value)s.") % {"value": str(value)[:24]}) from None
    return _within_bounds(day, name)


def _rfc3339_day(value, name: str) -> date:
    text = _text(value, name, 40) if value else ""
    try:
        moment = parse_datetime(text) if text else None
    except ValueError:  # well formed but no such day (2026-11-31)
        moment = None
    if moment is None:
        raise BadField(name, _("Not an RFC 3339 time: %(value)s.") % {"value": text})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _within_bounds(moment.astimezone(UTC).date(), name)


def _model(value, name: str) -> str:
    return _text(value, name, MODEL_LENGTH)


def _line_item_model(value) -> str:
    """``"gpt-4o-2024-08-06, input"`` → ``"gpt-4o-2024-08-06"``."""
    if not value:
        raise BadField("line_item", _("No line item: export the costs grouped by line item."))
    return _model(str(value).split(",")[0], "line_item")


# --- one record of each kind -----------------------------------------------------------------


def openai_cost_row(record: dict, day: date) -> Row:
    amount = record.get("amount")
    if isinstance(amount, dict):
        value, currency = amount.get("value"), amount.get("currency")
        value_field, currency_field = "amount.value", "amount.currency"
    else:  # the CSV download flattens it
        value, currency = record.get("amount_value"), record.get("amount_currency")
        value_field, currency_field = "amount_value", "amount_currency"
    return Row(
        day=day,
        model=_line_item_model(record.get("line_item")),
        cost=_decimal(value, value_field),
        currency=_currency(currency, currency_field),
    )


def openai_usage_row(record: dict, day: date) -> Row:
    model = record.get("model")
    if not model:
        raise BadField("model", _("No model: export the usage grouped by model."))
    input_tokens = _tokens(record, "input_tokens")
    cached = _tokens(record, "input_cached_tokens", required=False)
    if cached is not None and cached > input_tokens:
        raise BadField("input_cached_tokens", _("More cached than input tokens."))
    return Row(
        day=day,
        model=_model(model, "model"),
        requests=_tokens(record, "num_model_requests", required=False),
        input_tokens=input_tokens,
        cached_input_tokens=cached or 0,
        output_tokens=_tokens(record, "output_tokens"),
    )


def anthropic_cost_row(record: dict, day: date) -> Row:
    model = record.get("model")
    if not model:
        raise BadField("model", _("No model: export the cost report grouped by description."))
    return Row(
        day=day,
        model=_model(model, "model"),
        cost=_decimal(record.get("amount"), "amount") / CENTS,  # lowest currency unit (cents)
        currency=_currency(record.get("currency") or "USD", "currency"),
    )


ROW_READERS: dict[str, Callable[[dict, date], Row]] = {
    OPENAI_COSTS: openai_cost_row,
    OPENAI_USAGE: openai_usage_row,
    ANTHROPIC_COSTS: anthropic_cost_row,
}


# --- files ---------------------------------------------------------------------------------


def _kind_of_json(provider: str, buckets: list) -> str:
    if provider == "anthropic":
        return ANTHROPIC_COSTS
    for bucket in buckets:
        for result in (bucket or {}).get("results") or []:
            if isinstance(result, dict):
                return OPENAI_USAGE if "num_model_requests" in result or "input_tokens" in result else OPENAI_COSTS
    return OPENAI_COSTS


def _kind_of_csv(provider: str, header: Iterable[str]) -> str:
    columns = set(header)
    if provider == "anthropic":
        if not {"starting_at", "model", "amount"} <= columns:
            raise UnreadableFile(_("An Anthropic cost report CSV needs the columns starting_at, model and amount."))
        return ANTHROPIC_COSTS
    if "num_model_requests" in columns or "input_tokens" in columns:
        if not {"start_time", "model", "input_tokens", "output_tokens"} <= columns:
            raise UnreadableFile(_("An OpenAI usage CSV needs start_time, model, input_tokens and output_tokens."))
        return OPENAI_USAGE
    if not {"start_time", "amount_value", "line_item"} <= columns:
        raise UnreadableFile(_("An OpenAI costs CSV needs the columns start_time, amount_value and line_item."))
    return OPENAI_COSTS


def parse_json(provider: str, text: str) -> Parsed:
    try:
        document = read_json(text)  # numbers bounded; nesting bounded
    except UploadError as exc:
        raise UnreadableFile(str(exc)) from None
    buckets = document.get("data") if isinstance(document, dict) else None
    if not isinstance(buckets, list):
        raise UnreadableFile(_("No “data” list of time buckets: not a costs or usage answer."))
    parsed = Parsed(kind=_kind_of_json(provider, buckets))
    read_row = ROW_READERS[parsed.kind]
    day_field = "starting_at" if parsed.kind == ANTHROPIC_COSTS else "start_time"
    for b, bucket in enumerate(buckets):
        where = f"data[{b}]"
        try:
            raw_day = bucket.get(day_field) if isinstance(bucket, dict) else None
            day = (_rfc3339_day if day_field == "starting_at" else _unix_day)(raw_day, day_field)
        except BadField as exc:
            parsed.add_error(RowError(field=exc.field, message=str(exc), location=where))
            continue
        results = bucket.get("results")
        for r, result in enumerate(results if isinstance(results, list) else []):
            try:
                parsed.rows.append(read_row(result if isinstance(result, dict) else {}, day))
            except BadField as exc:
                parsed.add_error(RowError(field=exc.field, message=str(exc), location=f"{where}.results[{r}]"))
    return parsed


def parse_csv(provider: str, stream: IO[str]) -> Parsed:
    """Read a CSV row by row from ``stream`` (never the whole file at once)."""
    reader = csv.DictReader(stream)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise UnreadableFile(_("Line 1 is not CSV: %(error)s") % {"error": exc}) from None
    if not fieldnames:
        raise UnreadableFile(_("The CSV file is empty."))
    reader.fieldnames = [name.strip() for name in fieldnames]
    parsed = Parsed(kind=_kind_of_csv(provider, reader.fieldnames))
    read_row = ROW_READERS[parsed.kind]
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over the csv module's limit, a broken quote …
            raise UnreadableFile(
                _("Line %(line)s is not CSV: %(error)s") % {"line": reader.line_num, "error": exc}
            ) from None
        line = reader.line_num
        try:
            if parsed.kind == ANTHROPIC_COSTS:
                day = _rfc3339_day(record.get("starting_at"), "starting_at")
            else:
                day = _unix_day(record.get("start_time"), "start_time")
            if parsed.kind == OPENAI_COSTS and not record.get("amount_value"):
                continue  # the download writes an empty row for a day without spend
            parsed.rows.append(read_row(record, day))
        except BadField as exc:
            parsed.add_error(RowError(field=exc.field, message=str(exc), line=line))
    return parsed


def parse_export(*, provider: str, file_name: str, content: bytes | IO[bytes]) -> Parsed:
    """Read an uploaded export (its bytes, or the uploaded file itself): JSON or CSV (by its
    first character), of the provider's kind; UTF-8 or GB18030 text."""
    try:
        stream = open_text(content)
    except UploadError as exc:
        raise UnreadableFile(str(exc)) from None
    start = stream.read(4096).lstrip()
    stream.seek(0)
    if start[:1] in ("{", "["):
        parsed = parse_json(provider, stream.read())
    else:
        parsed = parse_csv(provider, stream)
    parsed.refuse_if_nothing_read()
    return parsed
