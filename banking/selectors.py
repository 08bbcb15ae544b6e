"""Reads the API and the admin share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from banking.models import BankTransaction


def transactions_listed(*, status: str | None = None) -> QuerySet[BankTransaction]:
    qs = BankTransaction.objects.prefetch_related("payments__bill").order_by("-date", "-pk")
    return qs.filter(status=status) if status else qs


def transaction_for(pk: int) -> BankTransaction:
    txn = transactions_listed().filter(pk=pk).first()
    if txn is None:
        raise Http404
    return txn
