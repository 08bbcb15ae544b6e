"""The parties frozen onto a bill, a statement of account and an invoice: our company (the
seller profile in force) and the customer (the buyer), each built here once.

The seller rule is one for every document: a bill or an invoice needs the seller profile in
force on its day — our name and the bank account the customer pays into. Without one the
close holds the bill in draft with ``seller_missing_reason`` (like any hold: add the profile
in the admin and close again) and invoicing refuses with the same words.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from billing.models import SellerProfile
from common.errors import Conflict
from customers.models import Customer, InvoiceTitle

# The keys of every buyer snapshot (bills, statements, invoices). Snapshots stored before
# this list was one lack ``code`` or ``invoice_title`` (invoices) — every reader uses
# ``.get`` or a template lookup, so they stay readable.
BUYER_KEYS = ("code", "name", "tax_id", "address", "phone", "bank_name", "bank_account", "email", "invoice_title")


def seller_in_force(on: date) -> SellerProfile | None:
    """The seller profile with the latest ``effective_from`` not after ``on``, if any."""
    return SellerProfile.objects.filter(effective_from__lte=on).order_by("-effective_from").first()


def seller_missing_reason(on: date) -> str:
    return _(
        "No seller profile is in force on %(day)s: a bill needs our company's name and bank account for the "
        "customer to pay it. Add a seller profile in the admin (Billing › Seller profiles) and close again."
    ) % {"day": on}


def seller_required(on: date) -> SellerProfile:
    """The seller profile in force on ``on``; a 409 saying what is missing when there is none."""
    profile = seller_in_force(on)
    if profile is None:
        raise Conflict(seller_missing_reason(on))
    return profile


def seller_snapshot(on: date) -> dict:
    """The seller in force on ``on`` as frozen onto a document ({} when none: a statement of
    account still shows the customer's figures)."""
    profile = seller_in_force(on)
    return profile.snapshot() if profile else {}


def buyer_snapshot(customer: Customer, title: InvoiceTitle | None = None) -> dict:
    """The buyer as frozen onto a document, with the keys ``BUYER_KEYS``. Without ``title``
    (bills, statements) the party is the customer as registered and ``invoice_title`` names
    its default invoice title; with one (an invoice) the party is the title it is made out to."""
    source = title or customer
    named = title or customer.invoice_titles.filter(is_default=True).first()
    return {
        "code": customer.code,
        "name": source.name,
        "tax_id": source.tax_id,
        "address": source.address,
        "phone": source.phone,
        "bank_name": source.bank_name,
        "bank_account": source.bank_account,
        "email": getattr(source, "email", "") or customer.email,
        "invoice_title": named.name if named else customer.name,
    }
