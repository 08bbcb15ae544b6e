"""A bill's lines from a month's rollups: one line per (usage period, project, model, variant), money rule 5 (docs/money-rules.md).

``build_lines`` is the one place a line's grouping key (``LineDraft.key``) and amount are
computed: the month close stores its drafts, and any figure that must equal the bill (the
period total of the usage summary, budgets) can sum the same drafts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from billing.metering.rollups import UNIT_FIELDS
from billing.models import (
    BillLine,
    UsageRollup,
)
from billing.periods import format_period
from billing.pricing.cost import ZERO, line_amount
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from customers.models import Contract, Customer


@dataclass
class LineDraft:
    kind: str
    period: date
    project_id: int | None
    provider: str = ""
    model: str = ""
    variant: str = "standard"
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    units: dict[str, int] = field(default_factory=dict)  # the non-zero sums of UNIT_FIELDS
    costs: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    price_versions: set[int] = field(default_factory=set)
    exchange_rates: dict[str, Decimal] = field(default_factory=dict)
    discount_percent: Decimal = ZERO
    amount: Decimal = ZERO
    note: str = ""  # a credit line's reason
    credit_id: int | None = None  # the BillCredit a credit line carries

    @property
    def key(self) -> tuple[date, int | None, str, str, str]:
        """What a usage or adjustment line groups: (usage period, project, provider, model, variant)."""
        return (self.period, self.project_id, self.provider, self.model, self.variant)

    def add_units(self, sums: dict[str, int | None]) -> None:
        """Add a rollup group's unit sums; only non-zero units are kept, in UNIT_FIELDS order."""
        merged = {name: self.units.get(name, 0) + (sums.get(name) or 0) for name in UNIT_FIELDS}
        self.units = {name: count for name, count in merged.items() if count}


def sort_key(line: LineDraft) -> tuple:
    """Usage lines before adjustments, then period, project, provider, model; within a model
    ``standard`` before its variants (alphabetical) — stable from one close to the next."""
    return (
        line.kind != BillLine.Kind.USAGE,
        line.period,
        line.project_id or 0,
        line.provider,
        line.model,
        line.variant != "standard",
        line.variant,
    )


def _usage_groups(customer: Customer, period: date):
    """Rollups billed on ``period``'s bill, summed per (usage period, project, model, variant, version)."""
    return (
        UsageRollup.objects.filter(customer=customer, bill_period=period, requests__gt=0)
        .values("period", "project_id", "provider", "model", "variant", "price_version_id", "currency")
        .annotate(
            requests_sum=Sum("requests"),
            input_sum=Sum("input_tokens"),
            cached_sum=Sum("cached_input_tokens"),
            output_sum=Sum("output_tokens"),
            cost_sum=Sum("cost"),
            **{name: Sum(name) for name in UNIT_FIELDS},
        )
        .order_by("period", "project_id", "provider", "model", "variant")
    )


def build_lines(
    customer: Customer,
    period: date,
    *,
    contracts: dict[date, Contract | None] | None = None,
    rates: dict[tuple[str, date], Decimal | None] | None = None,
    exact: bool = True,
) -> tuple[list[LineDraft], list[str], set[tuple[str, date]]]:
    """Usage and adjustment lines for the bill of ``period``, the reasons to hold it, and
    the (currency, period) exchange rates used.

    ``contracts`` (usage period → contract in force) and ``rates`` ((currency, usage period)
    → rate) are caches the caller may share: each is looked up once per period, not once
    per line (the rate depends on the currency, the period and that period's contract).
    ``exact``: each usage period's own rate (a close); False: the latest rate entered up to
    it (money rule 4 for a period still open: the usage summary's total, budgets)."""
    holds: list[str] = []
    rates_used: set[tuple[str, date]] = set()
    lines: dict[tuple, LineDraft] = {}
    unpriced: dict[str, int] = defaultdict(int)
    contracts = {} if contracts is None else contracts
    rates = {} if rates is None else rates
    for row in _usage_groups(customer, period):
        usage_period = row["period"]
        key = (usage_period, row["project_id"], row["provider"], row["model"], row["variant"])  # LineDraft.key
        line = lines.get(key)
        if line is None:
            kind = BillLine.Kind.USAGE if usage_period == period else BillLine.Kind.ADJUSTMENT
            line = lines[key] = LineDraft(
                kind, usage_period, row["project_id"], row["provider"], row["model"], variant=row["variant"]
            )
        line.requests += row["requests_sum"]
        line.input_tokens += row["input_sum"]
        line.cached_input_tokens += row["cached_sum"]
        line.output_tokens += row["output_sum"]
        line.add_units(row)
        if row["price_version_id"] is None:
            unpriced[row["model"]] += row["requests_sum"]
            continue
        line.costs[row["currency"]] += row["cost_sum"]
        line.price_versions.add(row["price_version_id"])

    for line in lines.values():
        if line.period not in contracts:
            contracts[line.period] = contract_for_period(customer, line.period)
        contract = contracts[line.period]
        line.discount_percent = contract.discount_percent if contract else ZERO
        for currency in sorted(line.costs):
            if (currency, line.period) not in rates:
                rates[(currency, line.period)] = exchange_rate_for(
                    currency, line.period, contract=contract, exact=exact
                )
            rate = rates[(currency, line.period)]
            if rate is None:
                reason = _("No %(currency)s exchange rate for %(period)s.") % {
                    "currency": currency,
                    "period": format_period(line.period),
                }
                if reason not in holds:
                    holds.append(reason)
                continue
            if currency != "CNY" and not (contract and contract.fixed_exchange_rate is not None):
                rates_used.add((currency, line.period))
            line.exchange_rates[currency] = rate
        # Money rule 5, rounded once per line; a line missing a rate holds the bill anyway.
        line.amount = line_amount(
            {c: cost for c, cost in line.costs.items() if c in line.exchange_rates},
            discount_percent=line.discount_percent,
            rates=line.exchange_rates,
        )

    if unpriced:
        detail = ", ".join(f"{model} ({count})" for model, count in sorted(unpriced.items()))
        holds.insert(
            0, _("Unpriced usage: %(detail)s. Add the price, run reprice_usage, then close again.") % {"detail": detail}
        )
    return sorted(lines.values(), key=sort_key), holds, rates_used
