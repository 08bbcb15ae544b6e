"""The demo exercises the price dimensions (issue 20 item 8): ACME's ops agent writes to the
prompt cache (5-minute and 1-hour), sends long-context calls and Batch calls where a Batch
price exists; ACME's search uses web searches on gpt-4o. And the story stays true: nothing
but the fine-tuned model is unpriced, no key spends past its hard limit, and each bill line's
records give the line back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import Q, Sum

from billing.metering.record_exports import bill_line_records
from billing.models import Bill, PriceVersion, UsageRecord, UsageRollup
from billing.periods import next_period
from billing.pricing.cost import line_amount
from tests.procurement.test_seed_demo import SHANGHAI, assert_no_key_spends_past_its_hard_limit, seed

pytestmark = pytest.mark.django_db

# After genai-prices' Batch prices for Anthropic start (so the last months have Batch calls).
NOW = datetime(2027, 1, 15, 14, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo at a tenth of its volume, loaded once for the module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(NOW, tick=False):
            seed()
        yield
        transaction.set_rollback(True)


def test_the_agent_writes_to_the_cache_sends_long_context_and_batch_calls(demo):
    agent = UsageRecord.objects.filter(customer__code="ACME", project__code="ops", model="claude-sonnet-4-5")

    assert agent.filter(cache_write_5m_tokens__gt=0).exists()
    assert agent.filter(cache_write_1h_tokens__gt=0).exists()
    assert agent.filter(input_tokens__gt=200_000).exists()
    batch = agent.filter(processing="batch")
    assert batch.exists() and set(batch.values_list("variant", flat=True)) == {"batch"}
    # Batch only where the price version in force has a Batch price (never unpriced for it)
    first_batch_price = min(
        v.effective_from
        for v in PriceVersion.objects.filter(provider="anthropic", model="claude-sonnet-4-5")
        if any(variant["when"] == {"processing": "batch"} for variant in v.variants)
    )
    assert first_batch_price > datetime(2026, 10, 1, tzinfo=UTC)  # so older months have none
    assert not batch.filter(occurred_at__lt=first_batch_price).exists()
    assert agent.filter(occurred_at__lt=first_batch_price).exists()
    # cache writes and long context only on the agent's calls
    others = UsageRecord.objects.exclude(project__code="ops", model="claude-sonnet-4-5")
    assert not others.filter(Q(cache_write_tokens__gt=0) | Q(input_tokens__gt=200_000) | Q(processing="batch")).exists()


def test_web_searches_are_on_acmes_search_gpt_4o_calls_only(demo):
    searching = UsageRecord.objects.filter(web_searches__gt=0)

    assert searching.exists()
    assert set(searching.values_list("customer__code", "project__code", "model").distinct()) == {
        ("ACME", "search", "gpt-4o")
    }
    assert not searching.filter(cost__isnull=True).exists()


def test_only_the_fine_tuned_model_is_unpriced(demo):
    unpriced = UsageRecord.objects.filter(price_version__isnull=True)

    assert set(unpriced.values_list("model", flat=True)) == {"acme-finetune-v2"}


def test_the_rollups_carry_the_dimensions_to_the_bills_and_summaries(demo):
    last = next_period(NOW.date().replace(day=1), -1)
    acme = UsageRollup.objects.filter(customer__code="ACME", period=last)
    sums = acme.aggregate(
        five=Sum("cache_write_5m_tokens"), hour=Sum("cache_write_1h_tokens"), searches=Sum("web_searches")
    )

    assert all(sums.values()), sums
    assert acme.filter(variant="batch").exists()


def test_each_usage_line_of_an_issued_bill_is_its_records(demo):
    bills = Bill.objects.filter(customer__code="ACME").exclude(status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
    assert bills.exists()
    for bill in bills:
        for line in bill.lines.filter(kind__in=("usage", "adjustment")):
            records = bill_line_records(bill=bill, line=line)
            costs: dict[str, Decimal] = {}
            for currency, cost in records.values_list("currency", "cost"):
                costs[currency] = costs.get(currency, Decimal(0)) + cost
            assert records.count() == line.requests, line
            assert {c: str(v) for c, v in costs.items()} == line.costs, line
            rates = {c: Decimal(r) for c, r in line.exchange_rates.items()}
            assert line_amount(costs, discount_percent=line.discount_percent, rates=rates) == line.amount.amount


def test_no_key_spends_past_its_hard_limit(demo):
    with time_machine.travel(NOW, tick=False):
        assert_no_key_spends_past_its_hard_limit(NOW)
