"""The one figure of a period (CONTRACT "One figure, limits and exports"): what its bill
carries, computed the bill's way — money rule 5 (docs/money-rules.md) lines (``build_lines``) of the rollups
whose ``bill_period`` is the period, each rounded, summed — whatever reads it: the usage
summary's ``total``, the portal's overview, budgets and their gauges, the forecast base,
the staff dashboard and the allowance.

A closed period (its bill issued) uses each period's own exchange rate, exactly as its
bill did; a period still open the latest rate entered up to it (money rule 4), so its
figure is what its bill would say if it closed with today's rates.

Scopes: a project reads its own lines; an API key its own rounded row (its usage of the
period, money rule 5 over the key's costs at once: a key is not a bill line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billing.bills.lines import LineDraft, build_lines
from billing.models import Bill, BillLine, ClosedPeriod, UsageRollup
from billing.pricing.cost import ZERO
from customers.models import Customer


@dataclass
class PeriodFigure:
    customer: Customer
    period: date
    closed: bool
    lines: list[LineDraft]  # the usage lines of the period (of the scope)
    adjustments: list[LineDraft]  # late usage of earlier periods this period's bill carries
    missing_rates: list[str] = field(default_factory=list)  # currencies without a rate yet

    @property
    def total(self) -> Decimal:
        """Σ the usage lines' amounts (each rounded once, money rule 5); a currency without a
        rate yet counts nothing (its CNY value is unknown; ``missing_rates`` names it)."""
        return sum((line.amount for line in self.lines), ZERO).quantize(Decimal("0.01"))

    @property
    def adjustments_total(self) -> Decimal:
        return sum((line.amount for line in self.adjustments), ZERO).quantize(Decimal("0.01"))


def period_closed(customer: Customer, period: date) -> bool:
    """Has ``period``'s bill been issued for ``customer`` (later usage becomes an adjustment)?"""
    return ClosedPeriod.objects.filter(customer=customer, period=period).exists()


def period_figure(
    customer: Customer, period: date, *, project_id: int | None = None, closed: bool | None = None
) -> PeriodFigure:
    """The lines ``period``'s bill carries (or would carry, closed now) for ``customer``, of
    one project when ``project_id`` is given. ``closed``: known by the caller (budgets read
    the open month), else looked up."""
    if closed is None:
        closed = period_closed(customer, period)
    drafts, _holds, _rates = build_lines(customer, period, exact=closed)
    if project_id is not None:
        drafts = [line for line in drafts if line.project_id == project_id]
    usage = [line for line in drafts if line.kind == BillLine.Kind.USAGE]
    adjustments = [line for line in drafts if line.kind == BillLine.Kind.ADJUSTMENT]
    missing = sorted({c for line in drafts for c in line.costs if c not in line.exchange_rates})
    return PeriodFigure(customer, period, closed, usage, adjustments, missing)


@dataclass
class LatePart:
    """Late usage of a period carried by one later bill period."""

    bill_period: date
    requests: int
    cost: Decimal
    bill: str | None  # the number of the bill carrying it, once issued


@dataclass
class LateUsage:
    """Usage of a closed period that arrived after its close: adjustments on later bills."""

    parts: list[LatePart] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(part.requests for part in self.parts)

    @property
    def cost(self) -> Decimal:
        return sum((part.cost for part in self.parts), ZERO).quantize(Decimal("0.01"))

    @property
    def bill(self) -> str | None:
        """The bill carrying it once issued; with several later bills, the first of them
        (``parts`` lists each)."""
        return self.parts[0].bill if self.parts else None

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "cost": f"{self.cost:.2f}",
            "bill": self.bill,
            "parts": [
                {
                    "bill_period": f"{part.bill_period:%Y-%m}",
                    "requests": part.requests,
                    "cost": f"{part.cost:.2f}",
                    "bill": part.bill,
                }
                for part in self.parts
            ],
        }


def late_usage(customer: Customer, period: date, *, project_id: int | None = None) -> LateUsage:
    """This period's usage billed on a later bill period, per later bill: its requests and
    the adjustment lines' amounts (as that bill computes them: its rate mode, this period's
    discount and rate)."""
    later = UsageRollup.objects.filter(customer=customer, period=period, bill_period__gt=period, requests__gt=0)
    if project_id is not None:
        later = later.filter(project_id=project_id)
    parts = []
    for bill_period in sorted(set(later.values_list("bill_period", flat=True))):
        figure = period_figure(customer, bill_period, project_id=project_id)
        lines = [line for line in figure.adjustments if line.period == period]
        numbers = _issued_bills(customer, bill_period)
        bills = sorted({numbers.get(line.project_id) or numbers.get(None) for line in lines} - {None})
        parts.append(
            LatePart(
                bill_period=bill_period,
                requests=sum(line.requests for line in lines),
                cost=sum((line.amount for line in lines), ZERO),
                bill=", ".join(bills) or None,
            )
        )
    return LateUsage(parts)


def _issued_bills(customer: Customer, period: date) -> dict[int | None, str]:
    """The issued (not voided) bills of ``period`` by project (None: the customer-wide one)."""
    bills = (
        Bill.objects.filter(customer=customer, period=period, number__isnull=False)
        .exclude(status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
        .values_list("project_id", "number")
    )
    return dict(bills)
