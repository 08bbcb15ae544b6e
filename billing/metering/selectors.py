"""Reads of usage shared by the API, admin and portal: the usage summary (money rule 5).

Every usage read goes through the rollups, never the raw records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Max, QuerySet, Sum

from billing.metering.rollups import UNIT_FIELDS
from billing.models import UsageRollup
from billing.periods import format_period
from billing.pricing.cost import line_amount
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from common.exports import csv_content
from customers.models import Customer, Project

GROUPINGS = {
    "model": ("provider", "model"),
    "project": ("project__code",),
    "api_key": ("api_key__key_id",),
    "day": ("day",),
}


@dataclass
class SummaryRow:
    key: str
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    unpriced_requests: int = 0
    # The sums of the added counts (CONTRACT.md "Price dimensions") that are not zero.
    units: dict[str, int] = field(default_factory=dict)
    provider: str | None = None
    cost_by_currency: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cost: Decimal | None = None


@dataclass
class UsageSummary:
    customer: Customer
    period: date
    group_by: str
    rows: list[SummaryRow]
    missing_rates: list[str]
    discount_percent: Decimal
    project: Project | None = None

    @property
    def period_label(self) -> str:
        return format_period(self.period)

    @property
    def total_cost(self) -> Decimal:
        """The sum of the rows' CNY costs (each already rounded as a bill line); rows without
        a cost (unpriced, or no exchange rate yet) add nothing — they are flagged beside it."""
        return sum((row.cost for row in self.rows if row.cost is not None), Decimal("0.00"))

    @property
    def export_filename(self) -> str:
        scope = f"-{self.project.code}" if self.project is not None else ""
        return f"usage-{self.customer.code}{scope}-{self.period_label}-{self.group_by}"


def rollups_for(customer: Customer, period: date) -> QuerySet[UsageRollup]:
    return UsageRollup.objects.filter(customer=customer, period=period)


def usage_summary(*, customer: Customer, period: date, group_by: str, project: Project | None = None) -> UsageSummary:
    """Usage of ``period`` grouped by model, project, API key or day (of one project when
    given), with CNY cost computed as a bill line would be (money rule 5) — discount and
    rate applied, rounded to 0.01."""
    columns = GROUPINGS[group_by]
    contract = contract_for_period(customer, period)
    discount = contract.discount_percent if contract else Decimal(0)
    rollups = rollups_for(customer, period)
    if project is not None:
        rollups = rollups.filter(project=project)
    aggregated = (
        rollups.values(*columns, "currency", "price_version_id")
        .annotate(
            r=Sum("requests"),
            i=Sum("input_tokens"),
            c=Sum("cached_input_tokens"),
            o=Sum("output_tokens"),
            cost=Sum("cost"),
            **{f"unit_{name}": Sum(name) for name in UNIT_FIELDS},
        )
        .order_by(*columns)
    )
    rows: dict[tuple[str | None, str], SummaryRow] = {}
    for item in aggregated:
        key_value = item[columns[-1]]
        key = key_value.isoformat() if isinstance(key_value, date) else str(key_value)
        provider = item.get("provider") if group_by == "model" else None
        # The same model name sold by two providers stays two rows.
        row = rows.setdefault((provider, key), SummaryRow(key=key, provider=provider))
        row.requests += item["r"]
        row.input_tokens += item["i"]
        row.cached_input_tokens += item["c"]
        row.output_tokens += item["o"]
        for name in UNIT_FIELDS:
            if item[f"unit_{name}"]:
                row.units[name] = row.units.get(name, 0) + item[f"unit_{name}"]
        if item["price_version_id"] is None:
            row.unpriced_requests += item["r"]
        else:
            row.cost_by_currency[item["currency"]] += item["cost"]
    missing: set[str] = set()
    rates: dict[str, Decimal | None] = {}
    for row in rows.values():
        for currency in row.cost_by_currency:
            if currency not in rates:
                rates[currency] = exchange_rate_for(currency, period, contract=contract, exact=False)
        row_missing = {c for c in row.cost_by_currency if rates[c] is None}
        missing |= row_missing
        row.cost = (
            None
            if row_missing
            else line_amount(row.cost_by_currency, discount_percent=discount, rates=rates)  # money rule 5
        )
    return UsageSummary(customer, period, group_by, list(rows.values()), sorted(missing), discount, project)


SUMMARY_COLUMNS = ["key", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "cost"]
SUMMARY_CSV_COLUMNS = [*SUMMARY_COLUMNS, "unpriced_requests"]


def usage_summary_rows(summary: UsageSummary) -> list[dict]:
    """The summary's rows as the API writes them (JSON and CSV): costs as 0.00 strings."""
    return [
        {
            "key": row.key,
            **({"provider": row.provider} if row.provider is not None else {}),
            "requests": row.requests,
            "input_tokens": row.input_tokens,
            "cached_input_tokens": row.cached_input_tokens,
            "output_tokens": row.output_tokens,
            "units": {name: row.units[name] for name in UNIT_FIELDS if name in row.units},
            "cost": None if row.cost is None else f"{row.cost:.2f}",
            "unpriced_requests": row.unpriced_requests,
        }
        for row in summary.rows
    ]


def usage_summary_csv(summary: UsageSummary) -> str:
    """The summary as the CSV file the API's ``format=csv`` and the portal's export serve:
    one column per unit that appears in any row (0 where a row has none of it)."""
    cents = Decimal("0.01")
    units = [name for name in UNIT_FIELDS if any(name in row.units for row in summary.rows)]
    header = [*SUMMARY_COLUMNS[:-1], *units, *SUMMARY_CSV_COLUMNS[len(SUMMARY_COLUMNS) - 1 :]]
    rows = [
        [
            row.key,
            row.requests,
            row.input_tokens,
            row.cached_input_tokens,
            row.output_tokens,
            *(row.units.get(name, 0) for name in units),
            None if row.cost is None else row.cost.quantize(cents),
            row.unpriced_requests,
        ]
        for row in summary.rows
    ]
    return csv_content(header, rows, bom=False)


def keys_last_used(customer: Customer) -> dict[int, date]:
    """The last business day each of ``customer``'s keys had usage, by key pk, from the daily
    rollups (the usage table is never read for a page)."""
    rows = UsageRollup.objects.filter(customer=customer).values("api_key_id").annotate(last=Max("day"))
    return {row["api_key_id"]: row["last"] for row in rows}
