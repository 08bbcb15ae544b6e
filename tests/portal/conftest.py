"""ACME's portal, on 5 November 2026 in Shanghai: usage in October and November (gpt-4o and
claude on two projects), October closed into an issued bill and invoiced, a budget past two
of its thresholds (so alerts exist), and a portal finance user, dora, beside alice and bob;
a signed-in Django test client per person, in either language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from billing.budgets.budgets import budget_create, budget_evaluate
from billing.models import Bill, Budget, ExchangeRate
from customers.models import PortalUser
from customers.services import invoice_title_save
from invoices.models import Invoice
from invoices.services import invoice_issue
from tests.billing.conftest import acme_key, gpt4o  # noqa: F401
from tests.billing.helpers import SHANGHAI, ingest, price, usage
from tests.conftest import _portal_user
from tests.factories import ProjectFactory, api_key_for
from tests.invoices.conftest import _media, _november, seller  # noqa: F401

PASSWORD = "correct-horse-battery"
TODAY = date(2026, 11, 5)


@pytest.fixture
def dora(acme):
    return _portal_user("dora", acme, PortalUser.Role.FINANCE)


@pytest.fixture
def acme_usage(acme, acme_key, gpt4o):  # noqa: F811
    """Calls on every day from 1 October to 5 November: gpt-4o on the chatbot key every day,
    claude-x on the search project's key on weekdays; USD at 7.10 for both months."""
    for period in (date(2026, 10, 1), date(2026, 11, 1)):
        ExchangeRate.objects.create(currency="USD", period=period, rate=Decimal("7.10"))
    price(provider="anthropic", model="claude-x", input="3", cached="0.3", output="15")
    search_key, _secret = api_key_for(ProjectFactory(customer=acme, code="search", name="搜索"), name="search")
    records = []
    day = date(2026, 10, 1)
    while day <= TODAY:
        moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI).isoformat()
        records.append(usage(acme_key.key_id, f"chat-{day}", occurred_at=moment, output_tokens=20_000 + day.day * 100))
        if day.weekday() < 5:
            records.append(
                usage(
                    search_key.key_id,
                    f"search-{day}",
                    provider="anthropic",
                    model="claude-x",
                    occurred_at=moment,
                    input_tokens=50_000,
                )
            )
        day += timedelta(days=1)
    records.append(usage(acme_key.key_id, "unpriced-1", model="mystery-9", occurred_at="2026-11-02T09:00:00+08:00"))
    result = ingest(records)
    assert not result.rejected, result.as_dict()
    return records


@pytest.fixture
def acme_bill(acme, seller, acme_usage) -> Bill:  # noqa: F811
    """October closed on 2 November: issued, due later in November."""
    from billing.bills.close import month_close_customer

    (outcome,) = month_close_customer(customer=acme, period=date(2026, 10, 1), today=date(2026, 11, 2))
    assert outcome.bill.status == Bill.Status.ISSUED, outcome.bill.hold_reason
    return outcome.bill


@pytest.fixture
def acme_invoice(acme_bill) -> Invoice:
    (issued,) = invoice_issue(bill=acme_bill)
    return issued


@pytest.fixture
def acme_budget(acme, acme_usage) -> Budget:
    budget = budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("20.00"), thresholds=[50, 80, 100]
    )
    budget_evaluate(budget)
    return budget


@pytest.fixture
def acme_title(acme):
    return invoice_title_save(
        customer=acme, name=acme.name, tax_id=acme.tax_id, invoice_type="special", is_default=True
    )


@pytest.fixture
def acme_world(acme_title, acme_bill, acme_invoice, acme_budget):
    return {"title": acme_title, "bill": acme_bill, "invoice": acme_invoice, "budget": acme_budget}


def signed_in(user, language: str = "zh-hans", **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def alice_portal(alice):
    return signed_in(alice)


@pytest.fixture
def bob_portal(bob):
    return signed_in(bob)


@pytest.fixture
def charlie_portal(charlie):
    return signed_in(charlie)
