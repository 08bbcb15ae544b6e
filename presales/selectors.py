"""Reads of estimates and proposals: the answer shapes the API returns and the staff pages
and the PDF show (one place, so a page never shows a figure the API would not)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from billing.periods import billing_tz
from billing.pricing import whatif
from billing.pricing.money import rmb_figures, rmb_upper
from presales.models import Estimate, EstimateOption, Proposal, ProposalVersion
from presales.rules import cheapest_options


def count_rounded(value: Decimal) -> int:
    """Token and request counts in answers: rounded half up to integers (the money uses the unrounded)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def estimates_visible() -> QuerySet[Estimate]:
    return Estimate.objects.prefetch_related(
        "workloads",
        Prefetch("options", queryset=EstimateOption.objects.select_related("workload").order_by("position")),
    )


def estimate_get(*, estimate_id: int) -> Estimate:
    try:
        return estimates_visible().get(pk=estimate_id)
    except (Estimate.DoesNotExist, ValueError):
        raise Http404 from None


def option_answer(option: EstimateOption) -> dict:
    return {
        "workload": option.workload.name,
        "provider": option.provider,
        "model": option.model,
        "price_version": option.price_version_id,
        "price_currency": option.currency,
        "monthly_requests": count_rounded(option.monthly_requests),
        "input_tokens": count_rounded(option.input_tokens),
        "cached_input_tokens": count_rounded(option.cached_input_tokens),
        "output_tokens": count_rounded(option.output_tokens),
        "monthly_amount": _money(option.monthly_amount),
        "monthly_vat": _money(option.monthly_vat),
        "monthly_total": _money(option.monthly_total),
        "months": list(option.months),
        "first_year_amount": _money(option.first_year_amount),
    }


def _levers_answer(levers: dict) -> dict:
    """The stored levers, their assumptions in the reader's language."""
    if not levers:
        return {}
    return {**levers, "assumptions": {k: whatif.text(v) for k, v in levers.get("assumptions", {}).items()}}


def estimate_answer(estimate: Estimate) -> dict:
    """CONTRACT.md "Presales" rule 5, plus the savings levers."""
    options = list(estimate.options.all())
    cheapest = cheapest_options(options)
    return {
        "id": estimate.pk,
        "prospect": estimate.prospect,
        "scenario": estimate.scenario,
        "as_of": estimate.as_of.astimezone(billing_tz()).isoformat(),
        "currency": "CNY",
        "days_per_month": estimate.days_per_month,
        "monthly_growth_percent": f"{estimate.monthly_growth_percent.normalize():f}",
        "discount_percent": f"{estimate.discount_percent:.2f}",
        "vat_rate": f"{estimate.vat_rate.normalize():f}",
        "exchange_rates": dict(estimate.exchange_rates),
        "options": [option_answer(o) for o in options],
        "cheapest": {workload: option.model for workload, option in cheapest.items()},
        "levers": _levers_answer(estimate.levers),
    }


def proposal_get(*, number: str) -> Proposal:
    try:
        return Proposal.objects.select_related("estimate", "customer", "contract").get(number=number)
    except Proposal.DoesNotExist:
        raise Http404 from None


def proposal_version_get(*, proposal: Proposal, version: int | None = None) -> ProposalVersion:
    versions = proposal.versions.all()
    found = versions.filter(version=version).first() if version is not None else versions.order_by("-version").first()
    if found is None:
        raise Http404
    return found


def proposal_answer(version: ProposalVersion) -> dict:
    proposal = version.proposal
    options = list(version.options.select_related("workload").order_by("position"))
    return {
        "number": proposal.number,
        "version": version.version,
        "versions": list(proposal.versions.order_by("version").values_list("version", flat=True)),
        "estimate": proposal.estimate_id,
        "prospect": proposal.estimate.prospect,
        "created_at": version.created_at.astimezone(billing_tz()).isoformat(),
        "valid_until": version.valid_until.isoformat(),
        "payment_terms_days": version.payment_terms_days,
        "invoice_type": version.invoice_type,
        "currency": "CNY",
        "chosen": [option_answer(o) for o in options],
        "monthly_amount": _money(version.monthly_amount),
        "monthly_vat": _money(version.monthly_vat),
        "monthly_total": _money(version.monthly_total),
        "first_year_amount": _money(version.first_year_amount),
        "first_year_vat": _money(version.first_year_vat),
        "first_year_total": _money(version.first_year_total),
        "first_year_total_upper": rmb_upper(version.first_year_total),
        "notes": version.notes,
        "sla_text": version.sla_text,
        "support_text": version.support_text,
        "terms_text": version.terms_text,
        "accepted_at": proposal.accepted_at.astimezone(billing_tz()).isoformat() if proposal.accepted_at else None,
        "customer": proposal.customer.code if proposal.customer_id else None,
        "contract": proposal.contract.number if proposal.contract_id else None,
    }


def proposal_twelve_months(options: list[EstimateOption]) -> list[dict]:
    """Month 1–12 totals of the chosen options (each option's rounded months, summed)."""
    rows = []
    for i in range(12):
        amount = sum((Decimal(o.months[i]) for o in options), Decimal(0))
        rows.append({"month": i + 1, "amount": amount, "figures": rmb_figures(amount)})
    return rows
