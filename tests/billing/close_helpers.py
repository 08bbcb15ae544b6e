"""Builders for the month-close, bill, payment and PDF tests.

Usage is created through ``usage_ingest_batch`` and prices and rates through their
services, as in production (the builders of tests/factories.py, re-exported here under
their short names); the expected amounts in the tests are worked out by hand.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import time_machine
from django.db import connection

from billing.bills.close import CloseOutcome, month_close_customer
from billing.metering.ingest import BatchResult, usage_ingest_batch
from billing.models import PriceVersion
from customers.models import ApiKey, Contract, Customer, Project
from tests.factories import SHANGHAI, customer_with_contract, key_for, shanghai  # noqa: F401 (re-exported)
from tests.factories import exchange_rate as rate  # noqa: F401 (re-exported)
from tests.factories import price_version as price  # noqa: F401 (re-exported)

NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)
JAN = date(2027, 1, 1)

_request_ids = itertools.count(1)


def travel(year: int, month: int, day: int, hour: int = 3, minute: int = 0) -> time_machine.travel:
    """Pin "now" to a moment in Asia/Shanghai (the clock does not tick)."""
    return time_machine.travel(shanghai(year, month, day, hour, minute), tick=False)


def contract_of(customer: Customer) -> Contract:
    return Contract.objects.get(customer=customer, status=Contract.Status.ACTIVE, starts_on=date(2026, 1, 1))


def set_terms(customer: Customer, **terms: Any) -> Contract:
    """Change the commercial terms of the customer's (first) contract."""
    contract = contract_of(customer)
    for name, value in terms.items():
        setattr(contract, name, value)
    contract.save()
    return contract


def project_of(customer: Customer, code: str) -> Project:
    return Project.objects.get(customer=customer, code=code)


def claude_price(**overrides: Any) -> PriceVersion:
    """anthropic/claude-sonnet-4: 3 input, 0.30 cached, 15 output USD per 1M tokens."""
    return price("claude-sonnet-4", provider="anthropic", input="3", cached="0.3", output="15", **overrides)


def record(
    key: ApiKey,
    *,
    model: str = "gpt-4o",
    input: int = 1000,
    cached: int = 0,
    output: int = 0,
    at: datetime | None = None,
    provider: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One gateway record (default: 2026-11-15 10:00 Shanghai)."""
    data: dict[str, Any] = {
        "request_id": request_id or f"req-{next(_request_ids):08d}",
        "key_id": key.key_id,
        "model": model,
        "input_tokens": input,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "occurred_at": (at or shanghai(2026, 11, 15, 10)).isoformat(),
    }
    if provider:
        data["provider"] = provider
    return data


def ingest(*records: dict[str, Any], now: datetime | None = None) -> BatchResult:
    result = usage_ingest_batch(records=list(records), now=now)
    assert not result.rejected, result.rejected
    assert not result.conflicts, result.conflicts
    return result


def close(customer: Customer, period: date = NOV, **kwargs: Any) -> list[CloseOutcome]:
    return month_close_customer(customer=customer, period=period, **kwargs)


def only(outcomes: list[CloseOutcome]):
    """The single bill of a close."""
    assert len(outcomes) == 1, [o.line() for o in outcomes]
    return outcomes[0].bill


def lines_of(bill) -> list[tuple]:
    """(kind, period, project code, model, requests, amount) per line, in bill order."""
    return [
        (
            line.kind,
            line.period,
            line.project.code if line.project_id else None,
            line.model,
            line.requests,
            line.amount.amount,
        )
        for line in bill.lines.select_related("project").order_by("position")
    ]


def truncate_usage_records() -> None:
    """The partitioned record table is unmanaged: transactional tests' flush leaves its rows."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_usagerecord")
