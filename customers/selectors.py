"""Reads shared by the API, admin, portal and other apps."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from customers.models import Contract, Customer


def contracts_overlapping_active(
    customer: Customer, starts_on: date, ends_on: date | None, exclude_pk: int | None = None
) -> QuerySet[Contract]:
    """Active contracts of ``customer`` whose dates overlap [starts_on, ends_on] (None: open)."""
    qs = Contract.objects.filter(customer=customer, status=Contract.Status.ACTIVE)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    if ends_on is not None:
        qs = qs.filter(starts_on__lte=ends_on)
    return qs


def contract_in_force(*, customer: Customer | int, on: date) -> Contract | None:
    """The active contract covering ``on`` (at most one exists)."""
    return (
        Contract.objects.filter(customer=customer, status=Contract.Status.ACTIVE, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .first()
    )
