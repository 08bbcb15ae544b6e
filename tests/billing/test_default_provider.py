"""A record without ``provider`` whose model two providers sell (issue 25 item 5): billed
under the only one of them its customer has used, else under the price book's default
provider for the model, else rejected naming ``provider`` — decided once per batch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.metering.ingest import usage_ingest_batch
from billing.models import DefaultProvider, UsageRollup
from tests.billing.close_helpers import customer_with_contract, key_for, price, record, shanghai

pytestmark = pytest.mark.django_db

MODEL = "claude-sonnet-4-5"
NOW = shanghai(2026, 11, 20, 12)


@pytest.fixture
def sold_twice():
    price(MODEL, provider="anthropic", input="3", cached=None, output="15")
    price(MODEL, provider="google", input="4", cached=None, output="16")


def send(key, *, provider=None, count=1, prefix="r"):
    return usage_ingest_batch(
        records=[
            record(
                key,
                model=MODEL,
                provider=provider,
                input=1_000_000,
                at=shanghai(2026, 11, 20, 9),
                request_id=f"{prefix}-{i}",
            )
            for i in range(count)
        ],
        now=NOW,
    )


def billed_under(key) -> dict[str, int]:
    rows = UsageRollup.objects.filter(api_key=key).values_list("provider", "requests", "cost")
    return {provider: (requests, cost) for provider, requests, cost in rows}


def test_without_history_or_default_the_record_is_rejected_naming_provider(sold_twice):
    key = key_for(customer_with_contract("NEW"))

    result = send(key)

    assert result.accepted == 0
    (rejected,) = result.rejected
    assert list(rejected["errors"]) == ["provider"]
    assert "anthropic, google" in rejected["errors"]["provider"][0]


def test_the_only_provider_the_customer_has_used_bills_it(sold_twice):
    key = key_for(customer_with_contract("ANTH"))
    assert send(key, provider="anthropic", prefix="before").accepted == 1

    result = send(key, count=3)

    assert (result.accepted, result.rejected) == (3, [])
    assert billed_under(key) == {"anthropic": (4, Decimal("12"))}


def test_a_customer_of_both_providers_falls_back_to_the_default(sold_twice):
    key = key_for(customer_with_contract("BOTH"))
    send(key, provider="anthropic", prefix="a")
    send(key, provider="google", prefix="g")
    assert send(key, prefix="none").rejected  # no default yet: ambiguous

    DefaultProvider.objects.create(model=MODEL, provider="google")
    result = send(key, prefix="after")

    assert (result.accepted, result.rejected) == (1, [])
    assert billed_under(key)["google"] == (2, Decimal("8"))


def test_the_price_books_default_serves_a_customer_without_history(sold_twice):
    DefaultProvider.objects.create(model=MODEL, provider="anthropic")
    key = key_for(customer_with_contract("FRESH"))

    assert send(key).accepted == 1
    assert billed_under(key) == {"anthropic": (1, Decimal("3"))}


def test_a_default_must_be_a_provider_that_sells_the_model(sold_twice):
    with pytest.raises(ValidationError) as error:
        DefaultProvider(model=MODEL, provider="openai").full_clean()
    assert "provider" in error.value.message_dict


def test_it_asks_the_database_once_per_batch_not_per_record(sold_twice):
    DefaultProvider.objects.create(model=MODEL, provider="anthropic")
    key = key_for(customer_with_contract("BULK"))
    send(key, provider="anthropic", prefix="warm")  # partitions and caches warmed

    with CaptureQueriesContext(connection) as named:
        send(key, provider="anthropic", count=500, prefix="named")
    with CaptureQueriesContext(connection) as unnamed:
        send(key, count=500, prefix="unnamed")

    # the customer's providers of the model, and the price book's defaults: one query each
    assert len(unnamed.captured_queries) - len(named.captured_queries) <= 2
    assert billed_under(key)["anthropic"][0] == 1001
