"""The one writer of BillEvent rows: a bill's audit trail (who, when, what)."""

from __future__ import annotations

from billing.models import Bill, BillEvent


def bill_event(bill: Bill, kind: str, actor=None, **data) -> BillEvent:
    """Append ``kind`` (one of ``BillEvent.Kind``) to the bill's audit trail."""
    kind = BillEvent.Kind(kind)  # an unknown kind is a programming error: ValueError
    return BillEvent.objects.create(
        bill=bill, kind=kind, actor=actor if getattr(actor, "pk", None) else None, data=data
    )
