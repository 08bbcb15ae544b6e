"""Reads of usage shared by the API, admin and portal: the usage summary's rows (money
rule 5; billing.bills.summary adds the period's one figure to them).

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
from billing.pricing.cost import line_amount
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from customers.models import Customer, Project

GROUPINGS = {
    "model": ("provider", "model"),
    "project": ("project__code",),
    "api_key": ("api_key__key_id",),
    "day": ("day",),
}


@dataclass
class UsageCounts:
    """Requests and counts of a row (or of one variant of it), and its cost per currency."""

    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    unpriced_requests: int = 0
    # The sums of the added counts (CONTRACT.md "Price dimensions") that are not zero.
    units: dict[str, int] = field(default_factory=dict)
    cost_by_currency: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cost: Decimal | None = None

    def add(self, item: dict) -> None:
        self.requests += item["r"]
        self.input_tokens += item["i"]
        self.cached_input_tokens += item["c"]
        self.output_tokens += item["o"]
        for name in UNIT_FIELDS:
            if item[f"unit_{name}"]:
                self.units[name] = self.units.get(name, 0) + item[f"unit_{name}"]
        if item["price_version_id"] is None:
            self.unpriced_requests += item["r"]
        else:
            self.cost_by_currency[item["currency"]] += item["cost"]


@dataclass
class SummaryRow(UsageCounts):
    key: str = ""
    provider: str | None = None
    # The row per variant (``standard``, ``batch``, ``flex``, …), each priced on its own as
    # a bill line of that variant would be.
    variants: dict[str, UsageCounts] = field(default_factory=dict)


@dataclass
class SummaryRows:
    rows: list[SummaryRow]
    missing_rates: list[str]
    discount_percent: Decimal


def rollups_for(customer: Customer, period: date) -> QuerySet[UsageRollup]:
    """The usage of ``period`` that its own bill carries (``bill_period`` = ``period``): late
    usage of a closed period is an adjustment on a later bill, not part of its rows."""
    return UsageRollup.objects.filter(customer=customer, period=period, bill_period=period)


def summary_rows(
    *,
    customer: Customer,
    period: date,
    group_by: str,
    project: Project | None = None,
    api_key_id: int | None = None,
    exact: bool = False,
) -> SummaryRows:
    """Usage of ``period`` grouped by model, project, API key or day (of one project or key
    when given), each row with its CNY cost computed as a bill line would be (money rule 5 (docs/money-rules.md))
    — discount and rate applied, rounded to 0.01 — and split by variant. ``exact``: the
    period's own rate (a closed period), else the latest entered up to it."""
    columns = GROUPINGS[group_by]
    contract = contract_for_period(customer, period)
    discount = contract.discount_percent if contract else Decimal(0)
    rollups = rollups_for(customer, period)
    if project is not None:
        rollups = rollups.filter(project=project)
    if api_key_id is not None:
        rollups = rollups.filter(api_key_id=api_key_id)
    aggregated = (
        rollups.values(*columns, "variant", "currency", "price_version_id")
        .annotate(
            r=Sum("requests"),
            i=Sum("input_tokens"),
            c=Sum("cached_input_tokens"),
            o=Sum("output_tokens"),
            cost=Sum("cost"),
            **{f"unit_{name}": Sum(name) for name in UNIT_FIELDS},
        )
        .order_by(*columns, "variant")
    )
    rows: dict[tuple[str | None, str], SummaryRow] = {}
    for item in aggregated:
        key_value = item[columns[-1]]
        key = key_value.isoformat() if isinstance(key_value, date) else str(key_value)
        provider = item.get("provider") if group_by == "model" else None
        # The same model name sold by two providers stays two rows.
        row = rows.setdefault((provider, key), SummaryRow(key=key, provider=provider))
        row.add(item)
        row.variants.setdefault(item["variant"], UsageCounts()).add(item)
    missing: set[str] = set()
    rates: dict[str, Decimal | None] = {}
    for row in rows.values():
        for part in (row, *row.variants.values()):
            for currency in part.cost_by_currency:
                if currency not in rates:
                    rates[currency] = exchange_rate_for(currency, period, contract=contract, exact=exact)
            part_missing = {c for c in part.cost_by_currency if rates[c] is None}
            missing |= part_missing
            part.cost = (
                None
                if part_missing
                else line_amount(part.cost_by_currency, discount_percent=discount, rates=rates)  # money rule 5
            )
    return SummaryRows(list(rows.values()), sorted(missing), discount)


def keys_last_used(customer: Customer) -> dict[int, date]:
    """The last business day each of ``customer``'s keys had usage, by key pk, from the daily
    rollups (the usage table is never read for a page)."""
    rows = UsageRollup.objects.filter(customer=customer).values("api_key_id").annotate(last=Max("day"))
    return {row["api_key_id"]: row["last"] for row in rows}
