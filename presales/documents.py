"""The proposal PDF (报价方案), rendered by the project's one PDF helper on request.

A version never changes, so its PDF is rendered from the stored rows each time (~0.2 s,
bench/presales.py) rather than stored.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone, translation

from billing.models import SellerProfile
from billing.pricing.money import rmb_upper
from presales.charts import months_chart_svg
from presales.models import ProposalVersion
from presales.rules import SECONDS_PER_DAY
from presales.selectors import option_answer, proposal_twelve_months


def workload_volume(workload, days: int) -> dict:
    daily = (
        Decimal(workload.daily_requests)
        if workload.daily_requests is not None
        else workload.average_qps * SECONDS_PER_DAY
    )
    return {"workload": workload, "daily": daily, "days": days, "monthly": daily * days}


def proposal_context(version: ProposalVersion) -> dict:
    proposal = version.proposal
    estimate = proposal.estimate
    options = list(version.options.select_related("workload", "price_version").order_by("position"))
    months = proposal_twelve_months(options)
    rows = []
    for i, month in enumerate(months):
        rows.append({"month": month["month"], "amounts": [o.months[i] for o in options], "total": month["amount"]})
    chosen_workloads = {o.workload_id for o in options}
    on = timezone.localtime(version.created_at).date() if version.created_at else timezone.localdate()
    seller = SellerProfile.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    return {
        "seller": seller,
        "proposal": proposal,
        "version": version,
        "estimate": estimate,
        "workloads": [
            workload_volume(w, estimate.days_per_month) for w in estimate.workloads.all() if w.pk in chosen_workloads
        ],
        "options": [{"row": o, "answer": option_answer(o)} for o in options],
        "month_rows": rows,
        "chart_svg": months_chart_svg(
            [(f"{o.workload.name} · {o.model}", [Decimal(m) for m in o.months]) for o in options], for_pdf=True
        ),
        "first_year_total_upper": rmb_upper(version.first_year_total),
        "vat_percent": (estimate.vat_rate * 100).normalize(),
        "exchange_rates": estimate.exchange_rates,
    }


def proposal_pdf_bytes(version: ProposalVersion) -> bytes:
    from common.pdf import render_pdf  # WeasyPrint loads only where PDFs are made

    with translation.override("zh-hans"):
        return render_pdf("pdf/proposal.html", proposal_context(version))
