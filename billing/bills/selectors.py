"""Reads of bills that the API, the admin and the portal share: the bills a user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from billing.models import Bill
from common.integers import id_or_none
from customers.access import MONEY_ROLES, customer_scoped

# --- Who may read which bill: the API, the admin's PDF links and the portal share these ---


def visible_bills(user) -> QuerySet[Bill]:
    """The bills ``user`` may read: all for finance; own customer's for portal admin/finance
    (a portal developer: 403, as ``NotAllowed``; anyone else: none)."""
    qs = Bill.objects.select_related("customer", "project", "replaces").prefetch_related("lines__project")
    return customer_scoped(user, qs, roles=MONEY_ROLES, refusal=_("Bills need the admin or finance role."))


def bill_for(user, number: str) -> Bill:
    """The bill ``number`` (or a draft's id) if ``user`` may read it; 404 otherwise."""
    qs = visible_bills(user)
    lookup = Q(number=number)
    if (draft_id := id_or_none(number)) is not None:
        lookup |= Q(pk=draft_id, number__isnull=True)
    bill = qs.filter(lookup).first()
    if bill is None:
        raise Http404
    return bill


def bill_with_pdf_for(user, number: str) -> Bill:
    """As ``bill_for``, for its PDF: a draft has none (404)."""
    bill = bill_for(user, number)
    if bill.status == Bill.Status.DRAFT:
        raise Http404
    return bill
