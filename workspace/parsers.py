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

A parser never stops at a bad row: it returns the rows it could read and, for each one it
could not, where it is (CSV line number, or the JSON path) and which field is wrong.
Amounts are read as Decimal (JSON numbers included), never as floats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

OPENAI_COSTS = "openai_costs"
OPENAI_USAGE = "openai_usage"
ANTHROPIC_COSTS = "anthropic_costs"
CENTS = Decimal(100)


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
    errors: list[RowError] = field(default_factory=list)


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
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadField(name, _("Not a whole number: %(value)s.") % {"value": value}) from None
    if number != number.to_integral_value() or number < 0:
        raise BadField(name, _("Not a whole number ≥ 0: %(value)s.") % {"value": value})
    return int(number)


def _decimal(value, name: str) -> Decimal:
    if value is None or value == "":
        raise BadField(name, _("This field is missing."))
    if isinstance(value, bool):
        raise BadField(name, _("Not an amount: %(value)s.") % {"value": value})
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadField(name, _("Not an amount: %(value)s.") % {"value": value}) from None
    if not number.is_finite():
        raise BadField(name, _("Not an amount: %(value)s.") % {"value": value})
    return number


def _currency(value, name: str) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise BadField(name, _("Not a currency code: %(value)s.") % {"value": value})
    return code


def _unix_day(value, name: str) -> date:
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC).date()
    except (TypeError, ValueError, OverflowError):
        raise BadField(name, _("Not a Unix time: %(value)s.") % {"value": value}) from None


def _rfc3339_day(value, name: str) -> date:
    try:
        moment = parse_datetime(str(value)) if value else None
    except ValueError:  # well formed but no such day (2026-11-31)
        moment = None
    if moment is None:
        raise BadField(name, _("Not an RFC 3339 time: %(value)s.") % {"value": value})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _line_item_model(value) -> str:
    """``"gpt-4o-2024-08-06, input"`` → ``"gpt-4o-2024-08-06"``."""
    if not value:
        raise BadField("line_item", _("No line item: export the costs grouped by line item."))
    return str(value).split(",")[0].strip()


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
        model=str(model),
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
        model=str(model),
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
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(_("Not valid JSON (line %(line)s).") % {"line": exc.lineno}) from None
    buckets = document.get("data") if isinstance(document, dict) else None
    if not isinstance(buckets, list):
        raise UnreadableFile(_("No “data” list of time buckets: not a costs or usage answer."))
    parsed = Parsed(kind=_kind_of_json(provider, buckets))
    read_row = ROW_READERS[parsed.kind]
    day_field = "starting_at" if parsed.kind == ANTHROPIC_COSTS else "start_time"
    for b, bucket in enumerate(buckets):
        where = f"data[{b}]"
        try:
            raw_day = (bucket or {}).get(day_field)
            day = (_rfc3339_day if day_field == "starting_at" else _unix_day)(raw_day, day_field)
        except BadField as exc:
            parsed.errors.append(RowError(field=exc.field, message=str(exc), location=where))
            continue
        for r, result in enumerate(bucket.get("results") or []):
            try:
                parsed.rows.append(read_row(result if isinstance(result, dict) else {}, day))
            except BadField as exc:
                parsed.errors.append(RowError(field=exc.field, message=str(exc), location=f"{where}.results[{r}]"))
    return parsed


def parse_csv(provider: str, text: str) -> Parsed:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise UnreadableFile(_("The CSV file is empty."))
    reader.fieldnames = [name.strip() for name in reader.fieldnames]
    parsed = Parsed(kind=_kind_of_csv(provider, reader.fieldnames))
    read_row = ROW_READERS[parsed.kind]
    for record in reader:
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
            parsed.errors.append(RowError(field=exc.field, message=str(exc), line=line))
    return parsed


def parse_export(*, provider: str, file_name: str, content: bytes) -> Parsed:
    """Read an uploaded export: JSON or CSV (by its first character), of the provider's kind."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(_("The file is not UTF-8 text.")) from None
    if text.lstrip()[:1] in ("{", "["):
        return parse_json(provider, text)
    return parse_csv(provider, text)
