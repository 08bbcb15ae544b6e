"""The proposal PDF (报价方案), rendered by the project's one PDF helper.

A version never changes, so its PDF is rendered once — on the first request, under a row
lock so that two first requests render it once — stored in MEDIA_ROOT storage
(``ProposalVersion.pdf``) and served from there afterwards.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
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


def proposal_pdf_render(version: ProposalVersion) -> bytes:
    from common.pdf import render_pdf  # WeasyPrint loads only where PDFs are made

    with translation.override("zh-hans"):
        return render_pdf("pdf/proposal.html", proposal_context(version))


def _stored(version: ProposalVersion) -> bool:
    return bool(version.pdf) and version.pdf.storage.exists(version.pdf.name)


def proposal_pdf_bytes(version: ProposalVersion) -> bytes:
    """The version's stored PDF; rendered and stored first when it has none (or its file is lost)."""
    if not _stored(version):
        with transaction.atomic():
            version = ProposalVersion.objects.select_for_update().get(pk=version.pk)
            if not _stored(version):
                content = proposal_pdf_render(version)
                name = f"{version.proposal.number}-v{version.version}.pdf"
                version.pdf.save(name, ContentFile(content), save=False)
                version.save(update_fields=["pdf"])
                return content
    with version.pdf.open("rb") as handle:
        return handle.read()
