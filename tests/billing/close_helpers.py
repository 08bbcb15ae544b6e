"""Builders for the month-close, bill, payment and PDF tests.

Usage is created through ``usage_ingest_batch`` and prices and rates through their
services, as in production; the expected amounts in the tests are worked out by hand.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection

from billing.bills.close import CloseOutcome, month_close_customer
from billing.metering.ingest import BatchResult, usage_ingest_batch
from billing.models import ExchangeRate, PriceVersion
from billing.pricing.services import exchange_rate_set, price_version_set
from customers.models import ApiKey, Contract, Customer, Project
from tests.factories import ContractFactory, CustomerFactory, ProjectFactory, api_key_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)
JAN = date(2027, 1, 1)

_request_ids = itertools.count(1)


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def travel(year: int, month: int, day: int, hour: int = 3, minute: int = 0) -> time_machine.travel:
    """Pin "now" to a moment in Asia/Shanghai (the clock does not tick)."""
    return time_machine.travel(shanghai(year, month, day, hour, minute), tick=False)


def customer_with_contract(code: str, name: str | None = None, **terms: Any) -> Customer:
    """A customer with one active contract from 2026-01-01 (USD, no discount, VAT 6 %, 30 days)."""
    customer = CustomerFactory(code=code, **({"name": name} if name else {}))
    ContractFactory(customer=customer, number=f"HT-{code}-1", **terms)
    return customer


def contract_of(customer: Customer) -> Contract:
    return Contract.objects.get(customer=customer, status=Contract.Status.ACTIVE, starts_on=date(2026, 1, 1))


def set_terms(customer: Customer, **terms: Any) -> Contract:
    """Change the commercial terms of the customer's (first) contract."""
    contract = contract_of(customer)
    for name, value in terms.items():
        setattr(contract, name, value)
    contract.save()
    return contract


def key_for(customer: Customer, project_code: str = "chatbot", name: str = "prod") -> ApiKey:
    project = ProjectFactory(customer=customer, code=project_code, name=f"项目 {project_code}")
    key = ApiKey.objects.filter(project=project, name=name).first()
    if key is None:
        key, _secret = api_key_for(project, name=name)
    return key


def project_of(customer: Customer, code: str) -> Project:
    return Project.objects.get(customer=customer, code=code)


def price(
    model: str = "gpt-4o",
    *,
    provider: str = "openai",
    input: str = "2.5",
    cached: str | None = "1.25",
    output: str = "10",
    currency: str = "USD",
    effective_from: date | datetime = date(2026, 1, 1),
) -> PriceVersion:
    if not isinstance(effective_from, datetime):
        effective_from = datetime.combine(effective_from, time.min, tzinfo=SHANGHAI)
    version, _created = price_version_set(
        provider=provider,
        model=model,
        effective_from=effective_from,
        currency=currency,
        input_per_mtok=Decimal(input),
        cached_input_per_mtok=None if cached is None else Decimal(cached),
        output_per_mtok=Decimal(output),
    )
    return version


def claude_price(**overrides: Any) -> PriceVersion:
    """anthropic/claude-sonnet-4: 3 input, 0.30 cached, 15 output USD per 1M tokens."""
    return price("claude-sonnet-4", provider="anthropic", input="3", cached="0.3", output="15", **overrides)


def rate(period: date, value: str, currency: str = "USD") -> ExchangeRate:
    obj, _created = exchange_rate_set(currency=currency, period=period, rate=Decimal(value))
    return obj


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
