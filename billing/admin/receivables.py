"""Receivables in the admin: the aging page (应收账款账龄) with its exports, and what a
customer owes on the customer's page (open bills, balance, credit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from billing.bills.receivables import receivables_aging_table
from billing.models import Bill, CreditEntry
from billing.periods import business_day, format_period
from common.admin_display import money_text
from common.exports import csv_response, xlsx_response

BUCKET_LABELS = {
    "current": _("not yet due"),
    "1-30": _("1–30 days overdue"),
    "31-60": _("31–60 days overdue"),
    "61-90": _("61–90 days overdue"),
    "90+": _("over 90 days overdue"),
}
BUCKET_COLOURS = {"current": "#79aec8", "1-30": "#f0c36d", "31-60": "#e8964a", "61-90": "#d9663a", "90+": "#ba2121"}
CHART_WIDTH = 360  # pixels for the largest bar


class AgingForm(forms.Form):
    as_of = forms.DateField(label=_("as of"), widget=forms.DateInput(attrs={"type": "date"}))


def receivables_aging_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = business_day(timezone.now())
    form = AgingForm(request.GET or {"as_of": today.isoformat()})
    as_of = form.cleaned_data["as_of"] if form.is_valid() else today
    table = receivables_aging_table(as_of=as_of)
    if request.GET.get("format") in ("csv", "xlsx"):
        return _export(table, as_of, request.GET["format"])
    rows = [
        {
            "customer": row["customer"],
            "name": row["name"],
            "bills_url": reverse("admin:billing_bill_changelist")
            + "?"
            + urlencode({"q": row["customer"], "status__in": ",".join(Bill.OPEN_STATUSES)}),
            "cells": [
                {"text": money_text(row[b]) if row[b] else "—", "overdue": b != "current" and row[b] > 0}
                for b in table["buckets"]
            ],
            "total": money_text(row["total"]),
        }
        for row in table["rows"]
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Receivables aging"),
        "opts": Bill._meta,
        "form": form,
        "as_of": as_of,
        "bucket_labels": [BUCKET_LABELS[b] for b in table["buckets"]],
        "rows": rows,
        "totals": [money_text(table["totals"][b]) for b in table["buckets"]] + [money_text(table["totals"]["total"])],
        "chart": _chart(table),
    }
    return TemplateResponse(request, "admin/billing/aging.html", context)


def _chart(table: dict) -> dict | None:
    largest = max((table["totals"][b] for b in table["buckets"]), default=Decimal(0))
    if largest <= 0:
        return None
    bars = []
    for i, bucket in enumerate(table["buckets"]):
        width = int(CHART_WIDTH * table["totals"][bucket] / largest)
        bars.append(
            {
                "label": BUCKET_LABELS[bucket],
                "y": 4 + i * 28,
                "width": width,
                "text_x": 156 + width,
                "amount": money_text(table["totals"][bucket]),
                "colour": BUCKET_COLOURS[bucket],
            }
        )
    return {"bars": bars, "height": 8 + len(bars) * 28}


def _export(table: dict, as_of: date, kind: str) -> HttpResponse:
    header = (
        [str(_("customer")), str(_("name"))]
        + [str(BUCKET_LABELS[b]) for b in table["buckets"]]
        + [pgettext("receivables aging", "total")]
    )
    rows = [[r["customer"], r["name"], *(r[b] for b in table["buckets"]), r["total"]] for r in table["rows"]]
    filename = f"receivables-aging-{as_of:%Y%m%d}.{kind}"
    if kind == "csv":
        cents = Decimal("0.01")
        rows = [[*r[:2], *(Decimal(v).quantize(cents) for v in r[2:])] for r in rows]
        return csv_response(header=header, rows=rows, filename=filename)
    # Amounts stay Decimal: numeric cells Excel can sum.
    return xlsx_response(
        title=str(_("Receivables aging")),
        header=header,
        rows=rows,
        filename=filename,
        number_formats=dict.fromkeys(range(2, len(header)), "#,##0.00"),
    )


def customer_receivables_html(customer) -> str:
    """What the customer owes: each open bill with its due date and balance, the total, and
    the credit waiting for the next bill."""
    if customer is None or customer.pk is None:
        return "—"
    bills = list(Bill.objects.filter(customer=customer, status__in=Bill.OPEN_STATUSES).order_by("due_on", "number"))
    entries = CreditEntry.objects.filter(customer=customer)
    credit = entries.filter(held=False).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    deposit = entries.filter(held=True).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td style="text-align:right">{}</td></tr>',
        (
            (
                reverse("admin:billing_bill_change", args=[bill.pk]),
                bill.number,
                format_period(bill.period),
                bill.get_status_display(),
                bill.due_on or "—",
                money_text(bill.balance),
            )
            for bill in bills
        ),
    )
    balance = sum((bill.balance.amount for bill in bills), Decimal(0))
    return format_html(
        '<table class="customer-receivables"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'
        "</thead><tbody>{}</tbody></table><p><strong>{}: {}</strong> · {}: {} · {}: {}</p>",
        _("bill"),
        _("period"),
        _("status"),
        _("due on"),
        _("balance"),
        rows or format_html('<tr><td colspan="5">{}</td></tr>', _("No open bills.")),
        _("balance owed"),
        money_text(balance),
        _("customer credit"),
        money_text(credit),
        _("deposit held"),
        money_text(deposit),
    )
