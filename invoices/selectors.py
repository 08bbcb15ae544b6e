"""Reads of invoices shared by the API, the admin's PDF links and the portal: who may read
which invoice (the same rules as bills: finance staff, or the customer's own portal users
with role admin or finance; a developer 403; another customer's invoice 404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from customers.access import MONEY_ROLES, customer_scoped
from invoices.models import Invoice


def visible_invoices(user) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("bill", "customer", "original").prefetch_related("lines")
    return customer_scoped(user, qs, roles=MONEY_ROLES, refusal=_("Invoices need the admin or finance role."))


def invoice_for(user, number: str) -> Invoice:
    """The invoice with this number (or our order number) if ``user`` may read it; 404 otherwise."""
    invoice = (
        visible_invoices(user).filter(number=number).first()
        or visible_invoices(user).filter(order_number=number).first()
    )
    if invoice is None:
        raise Http404
    return invoice


def invoice_with_pdf_for(user, number: str) -> Invoice:
    """As ``invoice_for``, for its PDF: pending or failed at the platform, it has nothing to print (404)."""
    invoice = invoice_for(user, number)
    if not invoice.number:
        raise Http404
    return invoice
