"""A key's allowance: may the gateway let the next call through (blocked by a budget)?"""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from billing.periods import business_day
from billing.pricing.cost import ZERO
from customers.models import Contract

# --- Allowance ------------------------------------------------------------------------


# Everything the answer needs in one indexed query (key by its unique key_id, its allowance
# row by primary key, the contract in force as contract_in_force finds it): the gateway asks
# before every call, so the path must stay cheap. The columns and the join are shared with
# the gateway's fast path (procurement.fastpath), which asks them together with the token.
ALLOWANCE_COLUMNS = """
       k.customer_id,
       k.revoked_at IS NOT NULL,
       EXISTS (
           SELECT 1 FROM customers_contract c
           WHERE c.customer_id = k.customer_id AND c.status = %(active)s AND c.starts_on <= %(today)s
             AND (c.ends_on IS NULL OR c.ends_on >= %(today)s)
       ),
       coalesce(a.period = %(period)s AND a.blocked, false),
       CASE WHEN a.period = %(period)s THEN a.month_to_date END,
       CASE WHEN a.period = %(period)s THEN a.budget END"""

ALLOWANCE_JOIN = "LEFT JOIN billing_keyallowance a ON a.api_key_id = k.id"

ALLOWANCE_SQL = f"""
SELECT {ALLOWANCE_COLUMNS}
FROM customers_apikey k
{ALLOWANCE_JOIN}
WHERE k.key_id = %(key_id)s
"""


def allowance_params(key_id: str, today: date | None = None) -> dict:
    """The parameters ALLOWANCE_COLUMNS needs for ``key_id`` on ``today`` (a business day)."""
    today = today or business_day(timezone.now())
    return {"key_id": key_id, "today": today, "period": today.replace(day=1), "active": Contract.Status.ACTIVE}


def allowance_answer(key_id: str, row: tuple) -> tuple[int, dict]:
    """``(customer id, answer)`` from ALLOWANCE_COLUMNS' values. The first reason that applies
    wins: revoked, no_contract, hard_limit."""
    customer_id, revoked, in_contract, blocked, month_to_date, limit = row
    reason = None
    if revoked:
        reason = "revoked"
    elif not in_contract:
        reason = "no_contract"
    elif blocked:
        reason = "hard_limit"
    return customer_id, {
        "key_id": key_id,
        "allowed": reason is None,
        "reason": reason,
        "month_to_date": f"{(month_to_date if month_to_date is not None else ZERO):.2f}",
        "budget": None if limit is None else f"{limit:.2f}",
        "currency": "CNY",
    }


def key_allowance_lookup(*, key_id: str, today: date | None = None) -> tuple[int, dict] | None:
    """The gateway's question: may this key call now? ``(customer id, answer)``, or None for
    an unknown key."""
    with connection.cursor() as cursor:
        cursor.execute(ALLOWANCE_SQL, allowance_params(key_id, today))
        row = cursor.fetchone()
    return None if row is None else allowance_answer(key_id, row)
