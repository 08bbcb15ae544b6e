"""Property tests of the money arithmetic of the reconciliation: the provider's cost shared
between customers adds up to the cost, and the rounded shares stay within half a fen each."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing.pricing.money import quantize_money
from workspace.selectors import ModelRow, allocate, percent

costs = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=10, allow_nan=False)
token_counts = st.dictionaries(st.integers(1, 50), st.integers(0, 10**9), min_size=1, max_size=8)


@given(cost=costs, tokens=token_counts)
def test_the_shares_add_up_to_the_cost(cost, tokens):
    shares = allocate(cost, tokens)
    if sum(tokens.values()) == 0:
        assert shares == {}
        return
    assert set(shares) == set(tokens)
    assert all(share >= 0 for share in shares.values())
    # Decimal division carries 28 significant digits: the sum is the cost to far below a fen.
    assert abs(sum(shares.values()) - cost) < Decimal("1e-12")
    rounded = sum(quantize_money(share) for share in shares.values())
    assert abs(rounded - quantize_money(cost)) <= Decimal("0.005") * (len(shares) + 1)


@given(
    cost=st.decimals(min_value=0, max_value=10**8, places=2),
    revenue=st.decimals(min_value=0, max_value=10**8, places=2),
)
def test_margin_is_revenue_less_cost_and_its_percent_is_rounded_half_up(cost, revenue):
    row = ModelRow("openai", "gpt-4o", cost=cost, revenue=revenue)
    assert row.margin == revenue - cost
    if revenue == 0:
        assert row.margin_percent is None
    else:
        assert row.margin_percent == quantize_money((revenue - cost) / revenue * 100)
        assert row.margin_percent == percent(revenue - cost, revenue)
