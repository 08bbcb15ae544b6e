"""End to end: the usage an estimate describes, sent through ingestion and closed, gives a
bill line of exactly the estimate's monthly amount (same price version, discount and rate)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.bills.close import month_close_customer
from billing.metering.partitions import forget_known
from billing.models import BillLine
from presales.estimates import estimate_create
from presales.rules import EstimateInput, WorkloadInput
from tests.billing.close_helpers import (
    NOV,
    customer_with_contract,
    ingest,
    key_for,
    price,
    rate,
    record,
    shanghai,
    travel,
)

pytestmark = pytest.mark.django_db

DAYS = 30  # November


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    daily=st.integers(min_value=1, max_value=4),
    input_tenths=st.integers(min_value=1, max_value=600),
    share_tenths=st.integers(min_value=0, max_value=10),
    output_tokens=st.integers(min_value=0, max_value=5000),
    discount=st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2),
    usd_rate=st.decimals(min_value=Decimal("6"), max_value=Decimal("8"), places=4),
)
def test_the_monthly_amount_is_the_bill_line_of_the_same_usage(
    daily, input_tenths, share_tenths, output_tokens, discount, usd_rate
):
    input_tokens = input_tenths * 10
    cached = input_tokens * share_tenths // 10
    forget_known()  # partitions made by an earlier example were rolled back with it
    with travel(2026, 12, 1, 3), transaction.atomic():
        version = price(input="2.5", cached="1.25", output="10")
        rate(NOV, str(usd_rate))
        customer = customer_with_contract("EST", discount_percent=discount)
        key = key_for(customer)
        calls = [
            record(key, input=input_tokens, cached=cached, output=output_tokens, at=shanghai(2026, 11, 1 + d, 9) + timedelta(minutes=n))
            for d in range(DAYS)
            for n in range(daily)
        ]  # fmt: skip
        ingest(*calls)
        month_close_customer(customer=customer, period=NOV)
        (line,) = BillLine.objects.filter(bill__customer=customer)

        estimate = estimate_create(
            request=EstimateInput(
                prospect="EST",
                days_per_month=DAYS,
                discount_percent=discount,
                as_of=shanghai(2026, 11, 30, 12),
                workloads=[
                    WorkloadInput(
                        name="w",
                        daily_requests=daily,
                        input_tokens=input_tokens,
                        output_tokens=output_tokens,
                        cached_share=Decimal(share_tenths) / 10,
                        models=[("openai", "gpt-4o")],
                    )
                ],
            )
        )
        (option,) = estimate.options.all()
        assert option.price_version_id == version.pk
        assert line.price_versions == [version.pk]
        assert option.monthly_amount == line.amount.amount
        transaction.set_rollback(True)
