"""Statement of account (对账函) of a customer for a date range (CONTRACT "Collections").

What counts, and when:

- a **bill** on its ``issued_on``, its ``total`` as the debit — every issued bill that is
  not void: a voided bill never counts and its reissue (``…-R1``) counts as the bill it
  finally is, on its own issue day; a credit line (a correction) is already in the total
  of the bill that carries it;
- a **payment** on its ``received_on`` (a bank transaction's value date), its whole
  ``amount`` as the credit — the money received, including any part that became customer
  credit. Credit applied to a later bill (method ``credit``) moves money already counted
  and is not a payment again; a deposit (押金) is held, not paid against bills, and is not
  on the statement.

``balance`` runs from ``opening_balance`` (bills − payments before ``from``); a balance below
zero is credit the customer holds. Entries are ordered by date, bills before payments on a
day, then by number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.bills.parties import buyer_snapshot, seller_snapshot
from billing.models import Bill, Payment
from billing.periods import business_day, next_period
from billing.pricing.cost import ZERO
from billing.pricing.money import rmb_figures, rmb_upper
from customers.models import Customer

NOT_PAYMENTS = (Payment.Method.CREDIT, Payment.Method.DEPOSIT)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _day(value: str | None, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        if not _DATE_RE.match(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: [_("Give a date as YYYY-MM-DD.")]}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError({name: [_("Give a date from 2000-01-01 to 2100-12-31.")]})
    return day


def statement_range(*, start: str | None, end: str | None, today: date | None = None) -> tuple[date, date]:
    """The ``from`` and ``to`` of a statement request (dates; default: the current month).
    A bad one is a ValidationError naming it; ``to`` before ``from`` names ``to``."""
    first, last = _day(start, "from"), _day(end, "to")
    month = (today or business_day(timezone.now())).replace(day=1)
    first = first or month
    last = last or next_period(first.replace(day=1)) - timedelta(days=1)
    if last < first:
        raise ValidationError({"to": [_("The end of the statement comes before its start.")]})
    return first, last


@dataclass
class StatementEntry:
    day: date
    kind: str  # "bill" | "payment"
    number: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = ZERO


@dataclass
class Statement:
    customer: Customer
    start: date
    end: date
    opening_balance: Decimal
    entries: list[StatementEntry] = field(default_factory=list)

    @property
    def closing_balance(self) -> Decimal:
        return self.entries[-1].balance if self.entries else self.opening_balance

    @property
    def total_debit(self) -> Decimal:
        return sum((e.debit for e in self.entries), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((e.credit for e in self.entries), ZERO)

    def as_json(self) -> dict:
        return {
            "customer": self.customer.code,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "currency": "CNY",
            "opening_balance": f"{self.opening_balance:.2f}",
            "entries": [
                {
                    "date": e.day.isoformat(),
                    "kind": e.kind,
                    "number": e.number,
                    "debit": f"{e.debit:.2f}",
                    "credit": f"{e.credit:.2f}",
                    "balance": f"{e.balance:.2f}",
                }
                for e in self.entries
            ],
            "closing_balance": f"{self.closing_balance:.2f}",
        }


def _bills(customer: Customer):
    return Bill.objects.filter(customer=customer, issued_on__isnull=False).exclude(
        status__in=(Bill.Status.DRAFT, Bill.Status.VOID)
    )


def _payments(customer: Customer):
    return Payment.objects.filter(customer=customer).exclude(method__in=NOT_PAYMENTS)


def customer_statement(*, customer: Customer, start: date, end: date) -> Statement:
    """The statement of ``customer`` from ``start`` to ``end`` (both included)."""
    billed = _bills(customer).filter(issued_on__lt=start).aggregate(s=Sum("total"))["s"] or ZERO
    paid = _payments(customer).filter(received_on__lt=start).aggregate(s=Sum("amount"))["s"] or ZERO
    statement = Statement(customer=customer, start=start, end=end, opening_balance=billed - paid)
    rows: list[tuple] = []
    bills = _bills(customer).filter(issued_on__gte=start, issued_on__lte=end)
    for pk, day, number, total in bills.values_list("pk", "issued_on", "number", "total"):
        rows.append((day, 0, number, pk, "bill", total, ZERO))
    payments = _payments(customer).filter(received_on__gte=start, received_on__lte=end)
    # One transfer that paid several bills is booked as one payment per bill under its bank
    # reference (banking's matching); the statement shows the transfer once, whole.
    transfers = (
        payments.exclude(reference="")
        .values("received_on", "reference")
        .annotate(first=Min("pk"), whole=Sum("amount"))
        .values_list("first", "received_on", "reference", "whole")
    )
    singles = payments.filter(reference="").values_list("pk", "received_on", "reference", "amount")
    for pk, day, reference, amount in [*transfers, *singles]:
        rows.append((day, 1, reference, pk, "payment", ZERO, amount))
    balance = statement.opening_balance
    for day, _order, number, _pk, kind, debit, credit in sorted(rows, key=lambda r: r[:4]):
        balance += debit - credit
        statement.entries.append(StatementEntry(day, kind, number, debit, credit, balance))
    return statement


def statement_context(statement: Statement) -> dict:
    """What the 对账函 PDF prints: both parties, the balances, each entry, 人民币大写."""
    today = business_day(timezone.now())
    closing = statement.closing_balance
    return {
        "statement": statement,
        "seller": seller_snapshot(today),
        "buyer": buyer_snapshot(statement.customer),
        "today": today,
        "closing_upper": rmb_upper(abs(closing)),
        "closing_figures": rmb_figures(abs(closing)),
        "closing_is_credit": closing < 0,
    }


def statement_pdf(statement: Statement) -> bytes:
    """The 对账函 as a PDF, through the one PDF helper (rendered each time: a range is asked for)."""
    from django.utils import translation

    from common.pdf import render_pdf  # WeasyPrint loads only where PDFs are made

    with translation.override("zh-hans"):
        return render_pdf("pdf/statement.html", statement_context(statement))


def statement_filename(statement: Statement) -> str:
    return f"STATEMENT-{statement.customer.code}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.pdf"


def statement_display(statement: Statement) -> dict:
    """The statement as the portal and staff pages print it (one partial for both)."""
    from common.admin_display import money_text

    labels = {"bill": _("Bill"), "payment": _("Payment")}
    return {
        "start": statement.start,
        "end": statement.end,
        "opening": money_text(statement.opening_balance),
        "closing": money_text(statement.closing_balance),
        "closing_is_credit": statement.closing_balance < 0,
        "total_debit": money_text(statement.total_debit),
        "total_credit": money_text(statement.total_credit),
        "rows": [
            {
                "date": e.day,
                "kind": e.kind,
                "label": labels[e.kind],
                "number": e.number,
                "debit": money_text(e.debit) if e.kind == "bill" else "",
                "credit": money_text(e.credit) if e.kind == "payment" else "",
                "balance": money_text(e.balance),
            }
            for e in statement.entries
        ],
    }
