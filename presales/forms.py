"""Forms of the staff pages. They collect the fields; the API's serializers and the services
decide what is valid, so a page refuses exactly what the API refuses (``errors_onto``
puts each refusal beside its field: ``workloads[1].cached_share`` on the second workload's
cached share)."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from common.admin_display import money_text
from common.integers import WholeNumberFormField
from common.vat import DEFAULT_VAT_RATE
from customers.models import InvoiceType
from presales.api import MAX_WORKLOADS
from presales.models import NOTES_MAX, SCENARIO_MAX

_PATH = re.compile(r"^workloads\[(\d+)\]\.(\w+)")


class IntakeForm(forms.Form):
    prospect = forms.CharField(label=_("Prospect"), max_length=200)
    scenario = forms.CharField(
        label=_("Scenario"), required=False, max_length=SCENARIO_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    days_per_month = WholeNumberFormField(label=_("Days per month"), initial=30)
    monthly_growth_percent = forms.DecimalField(label=_("Monthly growth %"), initial=Decimal(0))
    discount_percent = forms.DecimalField(label=_("Offered discount %"), initial=Decimal(0))
    fixed_exchange_rate = forms.DecimalField(
        label=_("Fixed exchange rate (CNY per USD)"),
        required=False,
        help_text=_("Empty: the latest rate finance entered for the price currency."),
    )
    vat_rate = forms.DecimalField(label=_("VAT rate"), initial=DEFAULT_VAT_RATE)
    as_of = forms.DateTimeField(
        label=_("Prices as of"),
        required=False,
        help_text=_("Empty: now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class WorkloadForm(forms.Form):
    BASIS = [("daily", _("Daily requests")), ("qps", _("Average QPS"))]

    name = forms.CharField(label=_("Workload"), max_length=200)
    basis = forms.ChoiceField(label=_("Volume given as"), choices=BASIS, initial="daily")
    volume = forms.DecimalField(
        label=_("Daily requests or average QPS"),
        help_text=_("Average QPS, never peak: daily requests = average QPS × 86,400."),
    )
    input_tokens = WholeNumberFormField(label=_("Input tokens per request"))
    output_tokens = WholeNumberFormField(label=_("Output tokens per request"))
    cached_share = forms.DecimalField(label=_("Cached share of input (0–1)"), initial=Decimal(0), required=False)
    models = forms.CharField(
        label=_("Candidate models"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "openai/gpt-4o\nopenai/gpt-4o-mini"}),
        help_text=_("One per line: provider/model."),
    )

    def as_api(self) -> dict:
        data = self.cleaned_data
        item = {
            "name": data["name"],
            "input_tokens": data["input_tokens"],
            "output_tokens": data["output_tokens"],
            "cached_share": data["cached_share"] if data.get("cached_share") is not None else Decimal(0),
            "models": [_candidate(line) for line in data["models"].splitlines() if line.strip()],
        }
        if data["basis"] == "qps":
            item["average_qps"] = data["volume"]
        else:
            volume = data["volume"]
            item["daily_requests"] = int(volume) if volume == volume.to_integral_value() else str(volume)
        return item


def _candidate(line: str) -> dict:
    provider, _slash, model = line.strip().rpartition("/")
    return {"provider": provider.strip(), "model": model.strip()}


def workload_formset(rows: int = 1):
    """The workload forms: ``rows`` blank ones to fill (1–20); blank ones are left out."""
    rows = min(max(rows, 1), MAX_WORKLOADS)
    return forms.formset_factory(
        WorkloadForm, extra=rows - 1, min_num=1, max_num=MAX_WORKLOADS, validate_min=True, validate_max=True
    )


WORKLOAD_FIELDS = {"daily_requests": "volume", "average_qps": "volume", "models": "models"}


def errors_onto(errors: dict[str, list[str]], form: forms.Form, workloads: list[forms.Form]) -> None:
    """The API's field paths onto the intake form and the workload forms sent (in order)."""
    for path, messages in errors.items():
        match = _PATH.match(path)
        if match and int(match.group(1)) < len(workloads):
            target = workloads[int(match.group(1))]
            name = WORKLOAD_FIELDS.get(match.group(2), match.group(2))
            target.add_error(name if name in target.fields else None, messages)
        elif path in form.fields:
            form.add_error(path, messages)
        else:
            form.add_error(None, messages)


class ProposalForm(forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))
    payment_terms_days = WholeNumberFormField(label=_("Payment terms (days)"), initial=30)
    invoice_type = forms.ChoiceField(label=_("Invoice type"), choices=InvoiceType.choices)
    chosen = forms.MultipleChoiceField(label=_("Chosen options"), widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTES_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.options = {str(o.pk): o for o in options}
        self.fields["chosen"].choices = [
            (str(o.pk), f"{o.workload.name}: {o.provider}/{o.model} ({money_text(o.monthly_amount)})") for o in options
        ]


class AcceptForm(forms.Form):
    customer_code = forms.CharField(label=_("Customer code"), max_length=32)
    tax_id = forms.CharField(label=_("Tax id (USCC)"), max_length=20, required=False)
    contract_number = forms.CharField(label=_("Contract number"), max_length=64)
    starts_on = forms.DateField(label=_("Contract starts on"), widget=forms.DateInput(attrs={"type": "date"}))
