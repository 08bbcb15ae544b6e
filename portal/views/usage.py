"""Usage (``/portal/usage/``): the API's usage summary as a table and a chart, and its
exports. The CSV is the API's ``format=csv`` file for the same query, byte for byte (one
function writes both); the XLSX holds the same figures as numbers."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from billing.bills.summary import UsageSummary, adjustment_rows, summary_units, usage_summary, usage_summary_csv
from billing.metering.record_exports import records_csv_response, summary_row_filename, summary_row_records
from billing.metering.selectors import GROUPINGS
from billing.periods import current_period, format_period, period_from
from common import charts
from common.exports import CSV_CONTENT_TYPE, xlsx_response
from common.files import file_response
from portal.access import portal_view

GROUP_LABELS = {
    "model": gettext_lazy("Model"),
    "project": gettext_lazy("Project"),
    "api_key": gettext_lazy("API key"),
    "day": gettext_lazy("Day"),
}


class UsageQueryForm(forms.Form):
    """The query of the API's usage summary: ``period``, ``group_by``, ``project``."""

    period = forms.CharField(label=gettext_lazy("Month"), required=False, help_text="YYYY-MM")
    group_by = forms.ChoiceField(
        label=gettext_lazy("Group by"), required=False, choices=[(name, GROUP_LABELS[name]) for name in GROUPINGS]
    )
    project = forms.ChoiceField(label=gettext_lazy("Project"), required=False)

    def __init__(self, data, *, customer):
        super().__init__(data)
        self.customer = customer
        self.fields["project"].choices = [("", _("All projects"))] + [
            (p.code, f"{p.name} ({p.code})") for p in customer.projects.order_by("code")
        ]
        self.fields["period"].widget.attrs.update(placeholder="YYYY-MM", inputmode="numeric")

    def clean_period(self):
        value = self.cleaned_data["period"].strip()
        if not value:
            return current_period()
        return period_from(value)  # the one period parser: YYYY-MM within 2000-01…2100-12

    def clean_group_by(self):
        return self.cleaned_data["group_by"] or "model"

    def clean_project(self):
        code = self.cleaned_data["project"]
        return self.customer.projects.get(code=code) if code else None


class RecordsQueryForm(UsageQueryForm):
    """A usage row's query and its ``key`` (blank: every row) and ``provider``: the records behind it."""

    key = forms.CharField(required=False, max_length=200)
    provider = forms.CharField(required=False, max_length=40)


def _query(request) -> tuple[UsageQueryForm, UsageSummary | None]:
    """The form of the query and, when it is valid, the usage summary it asks for."""
    form = UsageQueryForm(request.GET, customer=request.portal.customer)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    summary = usage_summary(
        customer=request.portal.customer, period=data["period"], group_by=data["group_by"], project=data["project"]
    )
    return form, summary


@require_safe
@portal_view()
def usage(request):
    form, summary = _query(request)
    context = {"form": form, "summary": summary, "groupings": GROUP_LABELS}
    if summary is None:
        return render(request, "portal/usage.html", context, status=400)
    context.update(
        period=format_period(summary.period),
        key_label=GROUP_LABELS[summary.group_by],
        unpriced=sum(row.unpriced_requests for row in summary.rows),
        chart=_chart(summary),
        query=request.GET.urlencode(),
        adjustments=[{**line, "amount_value": Decimal(line["amount"])} for line in adjustment_rows(summary)],
    )
    return render(request, "portal/usage.html", context)


def _chart(summary):
    label = _("Cost by %(group)s") % {"group": GROUP_LABELS[summary.group_by]}
    costs = [(row.key, row.cost or Decimal(0)) for row in summary.rows]
    if summary.group_by == "day":
        return charts.stacked_bars(
            [key[5:] for key, _cost in costs], [(_("Cost"), [c for _k, c in costs])], label=label
        )
    return charts.horizontal_bars(sorted(costs, key=lambda item: -item[1]), label=label)


@require_safe
@portal_view()
def export_csv(request):
    form, summary = _query(request)
    if summary is None:
        return render(request, "portal/usage.html", {"form": form, "groupings": GROUP_LABELS}, status=400)
    return file_response(
        usage_summary_csv(summary), filename=f"{summary.export_filename}.csv", content_type=CSV_CONTENT_TYPE
    )


@require_safe
@portal_view()
def export_xlsx(request):
    form, summary = _query(request)
    if summary is None:
        return render(request, "portal/usage.html", {"form": form, "groupings": GROUP_LABELS}, status=400)
    units = summary_units(summary)
    header = [
        GROUP_LABELS[summary.group_by],
        _("Provider"),
        _("Requests"),
        _("Input tokens"),
        _("Cached input tokens"),
        _("Output tokens"),
        *units,
        _("Cost (CNY)"),
        _("Unpriced requests"),
    ]
    rows = [
        [
            row.key,
            row.provider or "",
            row.requests,
            row.input_tokens,
            row.cached_input_tokens,
            row.output_tokens,
            *(row.units.get(name, 0) for name in units),
            row.cost,
            row.unpriced_requests,
        ]
        for row in summary.rows
    ]
    # The last row, as the CSV's: the counts summed, the cost the period's one figure.
    rows.append(
        [
            _("Total"),
            "",
            *(sum(row[i] for row in rows) for i in range(2, 6 + len(units))),
            summary.total,
            sum(row.unpriced_requests for row in summary.rows),
        ]
    )
    return xlsx_response(
        title=_("Usage %(period)s") % {"period": summary.period_label},
        header=header,
        rows=rows,
        filename=f"{summary.export_filename}.xlsx",
    )


@require_safe
@portal_view()
def records_csv(request):
    """The records behind a row of the usage page, as the API's ``GET /usage-records/`` file."""
    customer = request.portal.customer
    form = RecordsQueryForm(request.GET, customer=customer)
    if form.is_valid():
        data = form.cleaned_data
        try:
            records = summary_row_records(
                customer=customer,
                period=data["period"],
                group_by=data["group_by"],
                key=data["key"],
                provider=data["provider"],
                project=data["project"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            filename = summary_row_filename(customer, data["period"], data["group_by"], data["key"])
            return records_csv_response(customer=customer, records=records, filename=filename)
    return render(request, "portal/usage.html", {"form": form, "groupings": GROUP_LABELS}, status=400)
