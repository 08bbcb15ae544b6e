"""The reconciliation's tables as header + typed rows: the page shows them, the CSV and
XLSX exports write them, from the same :class:`~workspace.selectors.Reconciliation`."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _

from common.exports import csv_response, xlsx_response
from workspace.selectors import CustomerRow, ModelRow, Reconciliation


def _tokens(row: ModelRow, name: str) -> int | None:
    return None if row.theirs is None else getattr(row.theirs, name)


def model_header() -> list[str]:
    return [
        _("provider"),
        _("model"),
        _("our input tokens"),
        _("our cached input tokens"),
        _("our output tokens"),
        _("provider input tokens"),
        _("provider cached input tokens"),
        _("provider output tokens"),
        _("token difference %"),
        _("provider cost"),
        _("provider currency"),
        _("cost (CNY)"),
        _("revenue (CNY)"),
        _("margin (CNY)"),
        _("margin %"),
    ]


def model_cells(row: ModelRow) -> list:
    return [
        row.provider,
        row.model,
        row.ours.input_tokens,
        row.ours.cached_input_tokens,
        row.ours.output_tokens,
        _tokens(row, "input_tokens"),
        _tokens(row, "cached_input_tokens"),
        _tokens(row, "output_tokens"),
        row.token_difference_percent,
        row.provider_cost,
        row.provider_currency,
        row.cost,
        row.revenue,
        row.margin,
        row.margin_percent,
    ]


def customer_header() -> list[str]:
    return [
        _("customer"),
        _("name"),
        _("provider"),
        _("model"),
        _("our tokens (input + output)"),
        _("allocated cost (CNY)"),
        _("revenue (CNY)"),
        _("margin (CNY)"),
        _("margin %"),
    ]


def customer_cells(row: CustomerRow) -> list:
    return [
        row.customer,
        row.name,
        row.provider,
        row.model,
        row.tokens,
        row.cost,
        row.revenue,
        row.margin,
        row.margin_percent,
    ]


TABLES = {
    "models": (model_header, model_cells, lambda rec: rec.rows),
    "customers": (customer_header, customer_cells, lambda rec: rec.customer_rows),
    "disagreements": (model_header, model_cells, lambda rec: rec.disagreements),
}


def table(rec: Reconciliation, name: str) -> tuple[list[str], list[list]]:
    header, cells, rows = TABLES[name]
    return header(), [cells(row) for row in rows(rec)]


def export(rec: Reconciliation, name: str, kind: str) -> HttpResponse:
    header, rows = table(rec, name)
    filename = f"reconciliation-{rec.period_label}-{name}.{kind}"
    if kind == "xlsx":
        return xlsx_response(title=f"{rec.period_label} {name}", header=header, rows=rows, filename=filename)
    return csv_response(header=header, rows=rows, filename=filename)
