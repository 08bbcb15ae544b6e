"""The bill's states and the moves between them, in one table. Every service that changes a
bill's status asks it (close, payments, credit, overdue, void); the messages stay theirs."""

from __future__ import annotations

from billing.models import Bill

S = Bill.Status

BILL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.ISSUED}),
    # Customer credit used at issue can pay a bill in part or in full at once.
    S.ISSUED: frozenset({S.PARTIALLY_PAID, S.PAID, S.OVERDUE, S.VOID}),
    S.PARTIALLY_PAID: frozenset({S.PARTIALLY_PAID, S.PAID, S.OVERDUE, S.VOID}),
    # A part payment of an overdue bill leaves it overdue (partly paid again only if its
    # due date has not passed on the day of the payment).
    S.OVERDUE: frozenset({S.OVERDUE, S.PARTIALLY_PAID, S.PAID, S.VOID}),
    S.PAID: frozenset({S.VOID}),
    S.VOID: frozenset(),
}


def bill_can_become(source: str, target: str) -> bool:
    return target in BILL_TRANSITIONS[source]


def bill_sources(target: str, *, moving: bool = False) -> tuple[str, ...]:
    """The states a bill may reach ``target`` from; ``moving``: only from another state."""
    return tuple(s for s, targets in BILL_TRANSITIONS.items() if target in targets and not (moving and s == target))


def bill_move(bill: Bill, target: str) -> None:
    """Set ``bill.status`` to ``target``; a move the table does not allow is a programming
    error (the services check first and answer the user in their own words)."""
    if not bill_can_become(bill.status, target):
        raise ValueError(f"bill {bill.pk}: {bill.status} → {target} is not a transition")
    bill.status = target
