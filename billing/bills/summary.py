"""The usage summary (``GET /api/v1/usage-summary/``, the portal's usage page and its
exports): the rows of billing.metering.selectors, each rounded on its own, and the
period's one figure (billing.bills.figure) as ``total`` — the same for every grouping —,
with the late usage of a closed period and the adjustments an open one will carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billing.bills.figure import LateUsage, PeriodFigure, late_usage, period_figure
from billing.bills.lines import LineDraft
from billing.metering.rollups import UNIT_FIELDS
from billing.metering.selectors import SummaryRow, UsageCounts, summary_rows
from billing.periods import format_period
from common.exports import csv_content
from customers.models import Customer, Project

CENTS = Decimal("0.01")


@dataclass
class UsageSummary:
    customer: Customer
    period: date
    group_by: str
    rows: list[SummaryRow]
    missing_rates: list[str]
    discount_percent: Decimal
    figure: PeriodFigure
    late: LateUsage = field(default_factory=LateUsage)
    project: Project | None = None

    @property
    def period_label(self) -> str:
        return format_period(self.period)

    @property
    def total(self) -> Decimal:
        """The period's one figure (for the project, when one is asked for)."""
        return self.figure.total

    @property
    def adjustments(self) -> list[LineDraft]:
        return self.figure.adjustments

    @property
    def rows_total(self) -> Decimal:
        """Σ the rows' costs, each rounded on its own: need not equal ``total``."""
        return sum((row.cost for row in self.rows if row.cost is not None), Decimal("0.00"))

    @property
    def rows_add_up(self) -> bool:
        return self.rows_total == self.total

    @property
    def export_filename(self) -> str:
        scope = f"-{self.project.code}" if self.project is not None else ""
        return f"usage-{self.customer.code}{scope}-{self.period_label}-{self.group_by}"


def usage_summary(*, customer: Customer, period: date, group_by: str, project: Project | None = None) -> UsageSummary:
    """Usage of ``period`` grouped by model, project, API key or day (of one project when
    given): rows with their CNY cost as a bill line would be (money rule 5 (docs/money-rules.md)), the period's
    ``total`` as its bill computes it, and its usage a later bill carries (``late``)."""
    project_id = project.pk if project is not None else None
    figure = period_figure(customer, period, project_id=project_id)
    rows = summary_rows(customer=customer, period=period, group_by=group_by, project=project, exact=figure.closed)
    # Usage of the period another bill carries: arrived after its close, or swept onto a
    # later bill because the period itself had no bill (billing.bills.close._sweep_leftovers).
    late = late_usage(customer, period, project_id=project_id)
    missing = sorted(set(rows.missing_rates) | set(figure.missing_rates))
    return UsageSummary(customer, period, group_by, rows.rows, missing, rows.discount_percent, figure, late, project)


def _counts(part: UsageCounts) -> dict:
    return {
        "requests": part.requests,
        "input_tokens": part.input_tokens,
        "cached_input_tokens": part.cached_input_tokens,
        "output_tokens": part.output_tokens,
        "units": {name: part.units[name] for name in UNIT_FIELDS if name in part.units},
        "cost": None if part.cost is None else f"{part.cost:.2f}",
        "unpriced_requests": part.unpriced_requests,
    }


def usage_summary_rows(summary: UsageSummary) -> list[dict]:
    """The summary's rows as the API writes them (JSON): costs as 0.00 strings, each row
    with its split by variant."""
    return [
        {
            "key": row.key,
            **({"provider": row.provider} if row.provider is not None else {}),
            **_counts(row),
            "variants": [{"variant": name, **_counts(part)} for name, part in sorted(row.variants.items())],
        }
        for row in summary.rows
    ]


def adjustment_rows(summary: UsageSummary) -> list[dict]:
    """The adjustment lines the period's bill carries (late usage of earlier periods)."""
    codes = dict(summary.customer.projects.values_list("pk", "code"))
    return [
        {
            "period": format_period(line.period),
            "project": codes.get(line.project_id),
            "provider": line.provider,
            "model": line.model,
            "variant": line.variant,
            "requests": line.requests,
            "amount": f"{line.amount:.2f}",
        }
        for line in summary.adjustments
    ]


def usage_summary_json(summary: UsageSummary) -> dict:
    """The API's answer (CONTRACT "One figure, limits and exports")."""
    return {
        "customer": summary.customer.code,
        "period": summary.period_label,
        "currency": "CNY",
        "group_by": summary.group_by,
        "discount_percent": f"{summary.discount_percent:.2f}",
        "missing_rates": summary.missing_rates,
        "closed": summary.figure.closed,
        "rows": usage_summary_rows(summary),
        "total": f"{summary.total:.2f}",
        "late": summary.late.as_dict(),
        "adjustments": adjustment_rows(summary),
    }


SUMMARY_COLUMNS = ["key", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "cost"]
SUMMARY_CSV_COLUMNS = [*SUMMARY_COLUMNS, "unpriced_requests"]
TOTAL_KEY = "total"


def summary_units(summary: UsageSummary) -> list[str]:
    """The added counts that appear in any row, in the unit registry's order."""
    return [name for name in UNIT_FIELDS if any(name in row.units for row in summary.rows)]


def usage_summary_csv(summary: UsageSummary) -> str:
    """The summary as the CSV file the API's ``format=csv`` and the portal's export serve:
    one column per unit that appears in any row (0 where a row has none of it), and a last
    ``total`` row: the counts summed, the cost the period's one figure (``total``)."""
    units = summary_units(summary)
    header = [*SUMMARY_COLUMNS[:-1], *units, *SUMMARY_CSV_COLUMNS[len(SUMMARY_COLUMNS) - 1 :]]
    rows = [
        [
            row.key,
            row.requests,
            row.input_tokens,
            row.cached_input_tokens,
            row.output_tokens,
            *(row.units.get(name, 0) for name in units),
            None if row.cost is None else row.cost.quantize(CENTS),
            row.unpriced_requests,
        ]
        for row in summary.rows
    ]
    rows.append(
        [
            TOTAL_KEY,
            sum(row.requests for row in summary.rows),
            sum(row.input_tokens for row in summary.rows),
            sum(row.cached_input_tokens for row in summary.rows),
            sum(row.output_tokens for row in summary.rows),
            *(sum(row.units.get(name, 0) for row in summary.rows) for name in units),
            summary.total.quantize(CENTS),
            sum(row.unpriced_requests for row in summary.rows),
        ]
    )
    return csv_content(header, rows, bom=False)
