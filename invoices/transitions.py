"""The invoice's states and the moves between them, in one table, asked by every service
that changes an invoice's status (issue, platform failure, reversal)."""

from __future__ import annotations

from invoices.models import Invoice

S = Invoice.Status

INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.ISSUED, S.FAILED}),
    # Only a blue invoice moves on from issued: red-letter invoices reverse it in part or whole.
    S.ISSUED: frozenset({S.PARTIALLY_REVERSED, S.REVERSED}),
    S.PARTIALLY_REVERSED: frozenset({S.PARTIALLY_REVERSED, S.REVERSED}),
    S.REVERSED: frozenset(),
    S.FAILED: frozenset(),
}


def invoice_can_become(source: str, target: str) -> bool:
    return target in INVOICE_TRANSITIONS[source]


def invoice_sources(target: str) -> tuple[str, ...]:
    return tuple(s for s, targets in INVOICE_TRANSITIONS.items() if target in targets)


def invoice_move(invoice: Invoice, target: str) -> None:
    """Set ``invoice.status``; a move the table does not allow is a programming error."""
    if not invoice_can_become(invoice.status, target):
        raise ValueError(f"invoice {invoice.pk}: {invoice.status} → {target} is not a transition")
    invoice.status = target
