"""/staff/ — finance staff pages: the dashboard and the provider cost reconciliation.

Thin views: the figures come from ``workspace.selectors`` (as the API's do), writes from
``workspace.services``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing.admin.bills import held_draft_steps
from billing.admin.receivables import BUCKET_LABELS
from billing.bills.receivables import AGING_BUCKETS
from billing.budgets.feed import alert_summary
from billing.periods import format_period, previous_period
from common.charts import horizontal_bars, lines
from common.integers import int_param
from workspace import selectors, tables
from workspace.access import finance_view
from workspace.forms import PeriodForm, ProviderCostUploadForm
from workspace.models import ProviderCostImport
from workspace.parsers import UnreadableFile
from workspace.services import provider_costs_import


def _admin(name: str, **query) -> str:
    url = reverse(f"admin:{name}")
    return f"{url}?{urlencode(query)}" if query else url


@finance_view
def dashboard(request):
    data = selectors.dashboard()
    buckets = [name for name, _low, _high in AGING_BUCKETS]
    # The open month has no bill yet: its usage so far stands in, marked "to date" (not ¥0).
    months = [label for label, _amount in data.revenue_by_month]
    amounts = [amount for _label, amount in data.revenue_by_month]
    if months and months[-1] == format_period(data.usage_period):
        months[-1] = _("%(month)s (to date)") % {"month": months[-1]}
        amounts[-1] = data.open_month_to_date
    chart = lines(months, [(_("Revenue"), amounts)], label=_("Billed revenue by month (before VAT)"))
    context = {
        "data": data,
        "revenue_chart": chart,
        "revenue_table": [
            {"period": period, "label": label, "amount": amount, "to_date": label != period}
            for (period, _billed), label, amount in zip(data.revenue_by_month, months, amounts, strict=True)
        ],
        "revenue_note": _(
            "Billed revenue of closed months (issued bills, before VAT); the open month is its usage so far, "
            "marked “to date”."
        ),
        "bucket_labels": [BUCKET_LABELS[name] for name in buckets],
        "aging_rows": [{**row, "cells": [row[name] for name in buckets]} for row in data.aging["rows"]],
        "aging_totals": [data.aging["totals"][name] for name in buckets],
        "overdue": [{"bill": bill, "days": (data.today - bill.due_on).days} for bill in data.overdue],
        "held": [{"bill": bill, "steps": held_draft_steps(bill)} for bill in data.held],
        "alerts": [{"alert": alert, "summary": alert_summary(alert)} for alert in data.alerts],
        "links": {
            "revenue": _admin("billing_bill_changelist"),
            "aging": _admin("billing_bill_aging"),
            "overdue": _admin("billing_bill_changelist", status__exact="overdue"),
            "disputed": _admin("billing_bill_changelist", confirmation__exact="disputed"),
            "notices": _admin("billing_dunningnotice_changelist"),
            "unmatched": reverse("admin:banking_banktransaction_unmatched"),
            "invoice_requests": _admin("invoices_invoicerequest_changelist", status__exact="open"),
            "held": _admin("billing_bill_changelist", status__exact="draft"),
            "usage": _admin("billing_usagerollup_changelist", period=data.usage_period.isoformat()),
            "alerts": _admin("billing_alert_changelist"),
            "close": _admin("billing_bill_changelist", period=data.close.period.isoformat()),
        },
    }
    return render(request, "workspace/dashboard.html", context)


@finance_view
def reconciliation(request):
    period_form = PeriodForm(request.GET)
    period = (period_form.cleaned_data["period"] if period_form.is_valid() else None) or previous_period()
    form = ProviderCostUploadForm()
    if request.method == "POST":
        form = ProviderCostUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = provider_costs_import(
                    provider=form.cleaned_data["provider"],
                    file_name=upload.name or "",
                    content=upload,
                    actor=request.user,
                )
            except UnreadableFile as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request,
                    _("%(file)s: %(rows)s day × model rows imported, %(bad)s rows not read.")
                    % {
                        "file": record.file_name,
                        "rows": record.row_count,
                        "bad": len(record.errors) + record.more_errors,
                    },
                )
                query = urlencode({"period": format_period(period), "import": record.pk})
                return redirect(f"{reverse('workspace:reconciliation')}?{query}")
    rec = selectors.reconciliation(period=period)
    if request.GET.get("format") in ("csv", "xlsx") and not period_form.errors:
        name = request.GET.get("table", "models")
        if name in tables.TABLES:
            return tables.export(rec, name, request.GET["format"])
    shown_import = None
    if (import_id := int_param(request.GET.get("import"), name="import")) is not None:
        shown_import = ProviderCostImport.objects.filter(pk=import_id).first()
    # One bar per model whose provider cost is known: the margin (a loss draws no bar; its
    # figure is printed beside the axis and in the table).
    chart_rows = [(f"{row.provider}/{row.model}", row.margin) for row in rec.rows if row.margin is not None]
    context = {
        "rec": rec,
        "form": form,
        "period_errors": period_form.errors.get("period"),
        "model_header": tables.model_header(),
        "customer_header": tables.customer_header(),
        "chart": horizontal_bars(chart_rows, label=_("Margin per model (CNY)")) if chart_rows else None,
        "shown_import": shown_import,
        "recent_imports": ProviderCostImport.objects.select_related("uploaded_by").defer("errors")[:5],
        "export_query": urlencode({"period": rec.period_label}),
    }
    bad = form.errors or period_form.errors
    return render(request, "workspace/reconciliation.html", context, status=400 if bad else 200)
