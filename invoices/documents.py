"""Invoice PDF in the 数电票 layout, and its e-mail."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation

from billing.pricing.money import rmb_figures, rmb_upper
from invoices.events import invoice_event
from invoices.models import Invoice, InvoiceEvent

TITLES = {
    ("special", "blue"): "电子发票（增值税专用发票）",
    ("ordinary", "blue"): "电子发票（普通发票）",
    ("special", "red"): "电子发票（增值税专用发票）",
    ("ordinary", "red"): "电子发票（普通发票）",
}


# Backends whose invoices this app numbers and prints itself, not the tax platform: their
# PDFs are marked as samples (样票), never to be taken for a tax-authority invoice.
SAMPLE_BACKENDS = frozenset({"local"})


def invoice_context(invoice: Invoice) -> dict:
    return {
        "invoice": invoice,
        "sample": invoice.backend in SAMPLE_BACKENDS,
        "title": TITLES[(invoice.invoice_type, invoice.color)],
        "lines": list(invoice.lines.all()),
        "buyer": invoice.buyer,
        "seller": invoice.seller,
        "rate_percent": (invoice.vat_rate * 100).normalize(),
        "total_upper": rmb_upper(invoice.total.amount),
        "total_figures": rmb_figures(invoice.total.amount),
    }


def invoice_render_pdf(*, invoice_id: int) -> Invoice:
    from common.pdf import render_pdf

    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.status == Invoice.Status.PENDING or not invoice.number:
        raise ValueError("A pending invoice has no number yet; it cannot be rendered.")
    with translation.override("zh-hans"):
        pdf = render_pdf("pdf/invoice.html", invoice_context(invoice))
    if invoice.pdf:
        invoice.pdf.delete(save=False)
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf), save=False)
    invoice.save(update_fields=["pdf", "updated_at"])
    return invoice


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    if not invoice.pdf or not invoice.pdf.storage.exists(invoice.pdf.name):  # never rendered, or its file lost
        invoice = invoice_render_pdf(invoice_id=invoice.pk)
    with invoice.pdf.open("rb") as handle:
        return handle.read()


def invoice_send(*, invoice_id: int) -> bool:
    """E-mail the invoice PDF to the invoice title's delivery address, once (CAS on emailed_at)."""
    with transaction.atomic():
        claimed = Invoice.objects.filter(pk=invoice_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    to = [invoice.buyer.get("email") or invoice.customer.email]
    to = [a for a in to if a]
    if not to:
        return True
    try:
        context = invoice_context(invoice)
        subject = f"【{context['title']}】{invoice.seller.get('name', '')} 发票号码 {invoice.number} 价税合计 {context['total_figures']}"
        body = (
            f"{invoice.buyer.get('name', '')}：\n\n您好！附件是{context['title']}，发票号码 {invoice.number}，"
            f"开票日期 {invoice.issued_on:%Y-%m-%d}，价税合计 {context['total_figures']}（{context['total_upper']}）。\n\n"
            f"{invoice.seller.get('name', '')}\n"
        )
        message = EmailMessage(subject, body, to=to)
        message.attach(f"{invoice.number}.pdf", invoice_pdf_bytes(invoice), "application/pdf")
        message.send()
    except Exception:
        Invoice.objects.filter(pk=invoice_id).update(emailed_at=None)
        raise
    invoice_event(invoice, InvoiceEvent.Kind.EMAILED, to=to)
    return True
