"""Accounts receivable aging and revenue, for finance."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import F, Sum

from billing.models import Bill, BillLine
from billing.periods import format_period

AGING_BUCKETS = [("current", None, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None)]


def aging_bucket(days_overdue: int) -> str:
    for name, low, high in AGING_BUCKETS:
        if (low is None or days_overdue >= low) and (high is None or days_overdue <= high):
            return name
    return "current"


def receivables_aging(*, as_of: date) -> dict:
    """Open balances per customer in buckets by days past due (current = not yet due), with
    amounts as two-decimal strings (the API's answer)."""
    table = receivables_aging_table(as_of=as_of)

    def fmt(row: dict) -> dict:
        return {k: (f"{v:.2f}" if isinstance(v, Decimal) else v) for k, v in row.items()}

    return {**table, "rows": [fmt(r) for r in table["rows"]], "totals": fmt(table["totals"])}


def receivables_aging_table(*, as_of: date) -> dict:
    """The aging with Decimal amounts (pages and spreadsheets format them themselves)."""
    open_bills = Bill.objects.filter(status__in=Bill.OPEN_STATUSES).select_related("customer")
    rows: dict[str, dict] = {}
    totals = defaultdict(Decimal)
    for bill in open_bills:
        balance = bill.balance.amount
        if balance <= 0:
            continue
        days = (as_of - bill.due_on).days if bill.due_on else 0
        bucket = aging_bucket(max(days, 0))
        row = rows.setdefault(
            bill.customer.code,
            {
                "customer": bill.customer.code,
                "name": bill.customer.name,
                **{b[0]: Decimal(0) for b in AGING_BUCKETS},
                "total": Decimal(0),
            },
        )
        row[bucket] += balance
        row["total"] += balance
        totals[bucket] += balance
        totals["total"] += balance
    return {
        "as_of": as_of.isoformat(),
        "currency": "CNY",
        "buckets": [b[0] for b in AGING_BUCKETS],
        "rows": sorted(rows.values(), key=lambda r: (-r["total"], r["customer"])),
        "totals": {b[0]: totals[b[0]] for b in AGING_BUCKETS} | {"total": totals["total"]},
    }


def revenue(*, period: date | None, group_by: str) -> dict:
    """Billed revenue (before VAT) of issued bills, by customer or by model, per period."""
    lines = BillLine.objects.exclude(bill__status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
    if period is not None:
        lines = lines.filter(bill__period=period)
    key = "bill__customer__code" if group_by == "customer" else "model"
    data = lines.values(key, bill_period=F("bill__period")).annotate(amount=Sum("amount")).order_by("bill_period", key)
    return {
        "currency": "CNY",
        "group_by": group_by,
        "rows": [
            {
                "period": format_period(row["bill_period"]),
                "key": row[key] or ("minimum_commitment" if group_by == "model" else ""),
                "amount": f"{row['amount']:.2f}",
            }
            for row in data
        ],
    }
