"""Staff pages under /staff/presales/ (server-rendered; group presales or finance).

Thin: the forms collect, the API's serializers validate, the services write, and the
pages show the selectors' answers, the same the API returns."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from common.errors import Conflict
from common.files import pdf_response, wants_download
from common.integers import int_param
from common.shells import STAFF, page_view
from customers.access import is_finance, is_presales
from presales import estimates, proposals
from presales.api import EstimateRequestSerializer, flat_errors
from presales.charts import months_chart_svg, options_chart_svg
from presales.documents import proposal_pdf_bytes, workload_volume
from presales.forms import AcceptForm, IntakeForm, ProposalForm, errors_onto, workload_formset
from presales.models import Estimate, Proposal
from presales.selectors import estimate_answer, estimate_get, proposal_answer, proposal_get, proposal_version_get

PRESALES_OR_FINANCE = _lazy("These pages are for presales and finance staff. Ask an administrator if you need them.")

presales_staff = page_view(
    STAFF, lambda request: is_presales(request.user) or is_finance(request.user), message=PRESALES_OR_FINANCE
)


def _render(request, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {"title": title, **context})


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A service's refusal keyed by field, as the API answers it."""
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


@presales_staff
def intake(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(request.POST or None)
    rows = int_param(request.GET.get("rows"), name="rows", default=1)
    formset = workload_formset(rows)(request.POST or None, prefix="workloads")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        body = {k: v for k, v in form.cleaned_data.items() if v is not None and v != ""}
        given = [f for f in formset.forms if f.cleaned_data]  # blank extra forms are left out
        body["workloads"] = [f.as_api() for f in given]
        serializer = EstimateRequestSerializer(data=body)
        if not serializer.is_valid():
            errors_onto(flat_errors(serializer.errors), form, given)
        else:
            try:
                estimate = estimates.estimate_create(request=serializer.to_input(), by=request.user)
            except ValidationError as exc:
                errors_onto(_field_errors(exc), form, given)
            else:
                return redirect("presales:estimate", estimate_id=estimate.pk)
    recent = Estimate.objects.select_related("proposal").order_by("-created_at")[:20]
    return _render(
        request, "staff/presales/intake.html", _("Requirement intake"), form=form, formset=formset, recent=recent
    )


def _requirement(estimate: Estimate) -> list[dict]:
    """Each workload's volume as the page explains it: daily (or QPS × 86,400) × days = monthly."""
    return [workload_volume(w, estimate.days_per_month) for w in estimate.workloads.all()]


@presales_staff
def estimate_detail(request: HttpRequest, estimate_id: int) -> HttpResponse:
    estimate = estimate_get(estimate_id=estimate_id)
    answer = estimate_answer(estimate)
    options = list(estimate.options.all())
    proposal = Proposal.objects.filter(estimate=estimate).first()
    form = ProposalForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = [form.options[pk] for pk in data["chosen"]]
        try:
            version = proposals.proposal_version_create(
                estimate=estimate,
                valid_until=data["valid_until"],
                payment_terms_days=data["payment_terms_days"],
                invoice_type=data["invoice_type"],
                chosen=[proposals.Choice(o.workload.name, o.provider, o.model) for o in chosen],
                notes=data["notes"],
                by=request.user,
            )
        except ValidationError as exc:
            for path, errors in _field_errors(exc).items():
                name = path.split("[")[0]
                form.add_error(name if name in form.fields else None, errors)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Proposal %(number)s version %(version)s made.")
                % {"number": version.proposal.number, "version": version.version},
            )
            return redirect("presales:proposal", number=version.proposal.number)
    return _render(
        request,
        "staff/presales/estimate.html",
        _("Estimate for %(prospect)s") % {"prospect": estimate.prospect},
        estimate=estimate,
        answer=answer,
        requirement=_requirement(estimate),
        chart_svg=options_chart_svg(answer["options"]),
        months_svg=months_chart_svg(
            [
                (f"{o['workload']} · {o['model']}", [Decimal(m) for m in o["months"]])
                for o in answer["options"]
                if answer["cheapest"].get(o["workload"]) == o["model"]
            ]
        ),
        proposal=proposal,
        form=form,
    )


@presales_staff
def proposal_detail(request: HttpRequest, number: str) -> HttpResponse:
    proposal = proposal_get(number=number)
    versions = [proposal_answer(v) for v in proposal.versions.order_by("-version")]
    return _render(
        request,
        "staff/presales/proposal.html",
        _("Proposal %(number)s") % {"number": proposal.number},
        proposal=proposal,
        versions=versions,
        accept_form=AcceptForm(),
    )


@presales_staff
def proposal_pdf(request: HttpRequest, number: str) -> HttpResponse:
    proposal = proposal_get(number=number)
    version = proposal_version_get(proposal=proposal, version=int_param(request.GET.get("version"), name="version"))
    return pdf_response(
        proposal_pdf_bytes(version),
        filename=f"{proposal.number}-v{version.version}.pdf",
        download=wants_download(request),
    )


@presales_staff
@require_POST
def proposal_accept(request: HttpRequest, number: str) -> HttpResponse:
    proposal = proposal_get(number=number)
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            customer, contract = proposals.proposal_accept(proposal=proposal, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for path, errors in _field_errors(exc).items():
                form.add_error(path if path in form.fields else None, errors)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Accepted: customer %(customer)s with the draft contract %(contract)s.")
                % {"customer": customer.code, "contract": contract.number},
            )
            return redirect("presales:proposal", number=proposal.number)
    versions = [proposal_answer(v) for v in proposal.versions.order_by("-version")]
    return _render(
        request,
        "staff/presales/proposal.html",
        _("Proposal %(number)s") % {"number": proposal.number},
        proposal=proposal,
        versions=versions,
        accept_form=form,
    )
