"""Bill PDF (对账单) and the e-mails that carry it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation

from billing.bills.events import bill_event
from billing.bills.statement import Statement, customer_statement, statement_filename, statement_pdf
from billing.bills.wording import bill_line_words
from billing.models import Bill, BillEvent, UsageRollup
from billing.periods import format_period, next_period
from billing.pricing.money import rmb_figures, rmb_upper


def daily_spend(bill: Bill) -> list[tuple[str, Decimal]]:
    """Unrounded spend per day of the bill's own period in the price currency(ies), for the chart."""
    qs = UsageRollup.objects.filter(customer=bill.customer, period=bill.period, price_version__isnull=False)
    if bill.project_id:
        qs = qs.filter(project_id=bill.project_id)
    by_day = dict(qs.values_list("day").annotate(total=Sum("cost")).order_by("day"))
    day, end, series = bill.period, next_period(bill.period), []
    while day < end:
        series.append((f"{day.day}", by_day.get(day, Decimal(0))))
        day += timedelta(days=1)
    return series


def spend_chart_svg(series: list[tuple[str, Decimal]], *, width: int = 640, height: int = 140) -> str:
    """A small bar chart as inline SVG (no JavaScript, no network, renders in WeasyPrint)."""
    # Inline SVG does not inherit the page's font: unnamed, the labels pull a system font into the PDF.
    from common.pdf import PDF_FONT_FAMILY

    top = max((value for _label, value in series), default=Decimal(0)) or Decimal(1)
    n = max(len(series), 1)
    bar = width / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 16}" '
        f'viewBox="0 0 {width} {height + 16}" font-family="{PDF_FONT_FAMILY}">'
    ]
    for i, (label, value) in enumerate(series):
        h = value / top * (height - 4)  # bar height in points: Decimal all the way, rounded by the format
        x = i * bar
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="#3b6fb6"/>'
        )
        if i % 5 == 0 or i == n - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height + 12}" font-size="8" text-anchor="middle" fill="#555">{label}</text>'
            )
    parts.append(f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#999" stroke-width="0.5"/></svg>')
    return "".join(parts)


def bill_context(bill: Bill) -> dict:
    lines = list(bill.lines.select_related("project").all())
    return {
        "bill": bill,
        "lines": lines,
        "rows": bill_line_words(lines),  # each line with its variant, units and unit prices in words
        "period": format_period(bill.period),
        "seller": bill.seller,
        "buyer": bill.buyer,
        "total_upper": rmb_upper(bill.total.amount),
        "total_figures": rmb_figures(bill.total.amount),
        "chart_svg": spend_chart_svg(daily_spend(bill)),
        "vat_percent": (bill.vat_rate * 100).normalize(),
    }


def bill_render_pdf(*, bill_id: int) -> Bill:
    """Render (or re-render) the bill's PDF into MEDIA_ROOT storage."""
    bill = Bill.objects.select_related("customer", "project").get(pk=bill_id)
    if bill.status == Bill.Status.DRAFT:
        raise ValueError("A draft bill has no PDF; issue it first.")
    from common.pdf import render_pdf  # WeasyPrint loads only where PDFs are made

    with translation.override("zh-hans"):
        pdf = render_pdf("pdf/bill.html", bill_context(bill))
    if bill.pdf:
        bill.pdf.delete(save=False)
    bill.pdf.save(f"{bill.number}.pdf", ContentFile(pdf), save=False)
    bill.pdf_rendered_at = timezone.now()
    bill.save(update_fields=["pdf", "pdf_rendered_at", "updated_at"])
    bill_event(bill, BillEvent.Kind.PDF_RENDERED, bytes=len(pdf))
    return bill


def bill_pdf_bytes(bill: Bill) -> bytes:
    """The stored PDF, rendered first when missing (e.g. storage wiped, or the render task lagging)."""
    if not bill.pdf or not bill.pdf.storage.exists(bill.pdf.name):  # never rendered, or its file lost
        bill = bill_render_pdf(bill_id=bill.pk)
    with bill.pdf.open("rb") as handle:
        return handle.read()


def bill_statement(bill: Bill) -> Statement:
    """The statement of account (对账函) e-mailed with a bill: from the first day of the
    bill's period to its issue day, so it ends with the bill itself."""
    return customer_statement(customer=bill.customer, start=bill.period, end=bill.issued_on)


def bill_send(*, bill_id: int) -> bool:
    """E-mail the bill with its PDF and the statement of account (对账函) to the customer's
    billing contacts, once.

    Claimed with a compare-and-swap on ``emailed_at``: re-runs and concurrent workers do
    not resend; a failed send releases the claim so the retry sends it.
    """
    with transaction.atomic():
        claimed = Bill.objects.filter(pk=bill_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    bill = Bill.objects.select_related("customer").get(pk=bill_id)
    recipients = bill.customer.billing_emails
    if not recipients:
        bill_event(bill, BillEvent.Kind.EMAIL_SKIPPED, reason="no billing e-mail")
        return True
    try:
        context = bill_context(bill)
        with translation.override("zh-hans"):
            subject = render_to_string("emails/bill_subject.txt", context).strip()
            body = render_to_string("emails/bill_body.txt", context)
        message = EmailMessage(subject, body, to=recipients)
        message.attach(f"{bill.number}.pdf", bill_pdf_bytes(bill), "application/pdf")
        statement = bill_statement(bill)
        message.attach(statement_filename(statement), statement_pdf(statement), "application/pdf")
        message.send()
    except Exception:
        Bill.objects.filter(pk=bill_id).update(emailed_at=None)
        raise
    bill_event(bill, BillEvent.Kind.EMAILED, to=recipients)
    return True
