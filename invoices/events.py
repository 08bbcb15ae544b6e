"""The one writer of InvoiceEvent rows: an invoice's audit trail (who, when, what)."""

from __future__ import annotations

from invoices.models import Invoice, InvoiceEvent


def invoice_event(invoice: Invoice, kind: str, actor=None, **data) -> InvoiceEvent:
    """Append ``kind`` (one of ``InvoiceEvent.Kind``) to the invoice's audit trail."""
    kind = InvoiceEvent.Kind(kind)  # an unknown kind is a programming error: ValueError
    return InvoiceEvent.objects.create(
        invoice=invoice, kind=kind, actor=actor if getattr(actor, "pk", None) else None, data=data
    )
