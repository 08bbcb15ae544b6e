"""The audit trail of money terms: one writer, called by every service that changes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from customers.models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # One spelling per value (10.000000 and 10.00 are both "10"): only real changes show.
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "amount") and hasattr(value, "currency"):  # Money
        return f"{value.amount} {value.currency}"
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """``{field: [before, after]}`` for the fields whose value differs."""
    return {
        name: [_plain(before.get(name)), _plain(value)]
        for name, value in after.items()
        if _plain(before.get(name)) != _plain(value)
    }


def audit_record(action: str, target: object, actor=None, **facts: Any) -> AuditEvent:
    """Record that ``actor`` (a user, or None for the system) did ``action`` to ``target``."""
    return AuditEvent.objects.create(
        action=action,
        target=str(target)[:200],
        actor=actor if getattr(actor, "pk", None) else None,
        facts={key: _plain(value) if not isinstance(value, dict) else value for key, value in facts.items()},
    )
