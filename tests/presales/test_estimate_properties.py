"""An estimate's monthly amount is the usage line a bill would carry for the same tokens.

The bill side is computed as the close computes it: each call costed by money rule 2 (docs/money-rules.md)
(``record_cost``), the costs summed per price currency, then ``line_amount`` with the
contract's discount and the rate (billing/bills/lines.py ``build_lines``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.models import PriceVersion
from billing.pricing.cost import line_amount, record_cost, vat_amount
from presales.rules import monthly_requests, price_tokens

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("80"), places=4)
rates = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("10"), places=4)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)


def version(input_price, cached_price, output_price, currency="USD") -> PriceVersion:
    return PriceVersion(
        provider="openai",
        model="m",
        currency=currency,
        effective_from=datetime(2026, 1, 1),
        input_per_mtok=input_price,
        cached_input_per_mtok=cached_price,
        output_per_mtok=output_price,
    )


@settings(max_examples=60, deadline=None)
@given(
    daily=st.integers(min_value=0, max_value=40),
    days=st.integers(min_value=28, max_value=31),
    input_tenths=st.integers(min_value=0, max_value=800),
    share_tenths=st.integers(min_value=0, max_value=10),
    output_tokens=st.integers(min_value=0, max_value=8000),
    input_price=prices,
    cached_price=st.none() | prices,
    output_price=prices,
    rate=rates,
    discount=discounts,
)
def test_the_monthly_amount_equals_the_bill_line_for_the_same_calls(
    daily, days, input_tenths, share_tenths, output_tokens, input_price, cached_price, output_price, rate, discount
):
    # Whole tokens per call: input a multiple of 10, so a cached share in tenths caches whole tokens.
    input_tokens = input_tenths * 10
    share = Decimal(share_tenths) / 10
    cached_per_call = input_tokens * share_tenths // 10
    price = version(input_price, cached_price, output_price)

    requests = monthly_requests(daily_requests=daily, average_qps=None, days_per_month=days)
    estimate = price_tokens(
        version=price,
        requests=requests,
        input_per_request=input_tokens,
        output_per_request=output_tokens,
        cached_share=share,
        rate=rate,
        discount_percent=discount,
        vat_rate=Decimal("0.06"),
        growth_percent=Decimal(0),
    )

    calls = daily * days
    bill_cost = sum(
        (record_cost(price, input_tokens, cached_per_call, output_tokens) for _call in range(calls)), Decimal(0)
    )
    bill_line = line_amount({"USD": bill_cost}, discount_percent=discount, rates={"USD": rate})
    assert estimate.monthly_amount == bill_line
    assert estimate.monthly_vat == vat_amount(bill_line, Decimal("0.06"))
    assert estimate.months == [bill_line] * 12


@settings(max_examples=60, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("10000000"), places=2),
    growth=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=3),
)
def test_the_twelve_months_grow_and_sum_to_the_first_year(amount, growth):
    priced = price_tokens(
        version=version(Decimal(1), None, Decimal(0), currency="CNY"),
        requests=amount,  # a million input tokens a request at 1 CNY per million: cost = amount
        input_per_request=1_000_000,
        output_per_request=0,
        cached_share=Decimal(0),
        rate=Decimal(1),
        discount_percent=Decimal(0),
        vat_rate=Decimal("0.06"),
        growth_percent=growth,
    )

    assert priced.monthly_amount == amount
    assert priced.months[0] == amount
    assert priced.months == sorted(priced.months)
    assert priced.first_year_amount == sum(priced.months, Decimal(0))
