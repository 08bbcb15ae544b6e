"""Builders shared by the invoice tests: the seller, issued bills (through the month close),
and the keys of the invoice JSON."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from djmoney.money import Money

from billing.bills.close import month_close_customer
from billing.metering.ingest import usage_ingest_batch
from billing.models import Bill
from customers.models import Contract, Customer, Project
from tests.billing.helpers import price
from tests.factories import SELLER, SHANGHAI, api_key_for, seller_profile  # noqa: F401 (re-exported)

PERIOD = date(2026, 10, 1)
CLOSED_ON = date(2026, 11, 2)
SELLER_TAX_ID = SELLER["tax_id"]
# CONTRACT.md, "An invoice".
CONTRACT_KEYS = {
    "number",
    "bill",
    "color",
    "invoice_type",
    "status",
    "issued_on",
    "amount",
    "vat",
    "total",
    "currency",
    "buyer_name",
    "buyer_tax_id",
    "original",
    "red_reason",
}
# What the API adds beyond the contract (invoices/api.py InvoiceSerializer); pinned so a
# change to the shape is a deliberate one.
EXTRA_KEYS = {"order_number", "customer", "vat_rate", "seller_name", "remark", "backend", "lines"}


def commitment_bill(
    customer: Customer,
    amount: Decimal,
    *,
    period: date = PERIOD,
    today: date = CLOSED_ON,
    **contract_fields,
) -> Bill:
    """An issued bill of exactly ``amount`` before VAT: a month with no usage and a minimum
    commitment of ``amount`` (money rule 7, docs/money-rules.md), closed through the month close."""
    contract = Contract.objects.filter(customer=customer).order_by("pk").first()
    Contract.objects.filter(pk=contract.pk).update(minimum_monthly_commitment=Money(amount, "CNY"), **contract_fields)
    outcomes = month_close_customer(customer=customer, period=period, today=today)
    (outcome,) = outcomes
    assert outcome.bill.status != Bill.Status.DRAFT, outcome.bill.hold_reason
    return outcome.bill


def usage_bill(project: Project, amounts: dict[tuple[str, str], Decimal], *, today: date = CLOSED_ON) -> Bill:
    """An issued bill with one usage line per (provider, model) of exactly the given CNY amount:
    each model is priced at ``amount`` CNY per million output tokens and used for one million."""
    key, _secret = api_key_for(project, name="invoice-tests")
    records = []
    for i, ((provider, model), amount) in enumerate(amounts.items()):
        price(provider=provider, model=model, currency="CNY", input="0", cached=None, output=str(amount))
        records.append(
            {
                "request_id": f"inv-{project.code}-{i}",
                "key_id": key.key_id,
                "provider": provider,
                "model": model,
                "input_tokens": 0,
                "output_tokens": 1_000_000,
                "occurred_at": "2026-10-15T10:00:00+08:00",
            }
        )
    result = usage_ingest_batch(records=records, now=datetime(2026, 10, 20, tzinfo=SHANGHAI))
    assert result.accepted == len(records), result.as_dict()
    (outcome,) = month_close_customer(customer=project.customer, period=PERIOD, today=today)
    assert outcome.bill.status == Bill.Status.ISSUED, outcome.bill.hold_reason
    return outcome.bill


def sequence_of(number: str) -> int:
    return int(number[5:])
