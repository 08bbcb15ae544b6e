"""One money rule, one answer: for random usage, the usage summary of a closed month, the
budget's month-to-date (and the allowance built from it) and the bill's lines agree to the
fen, and each line is money rule 5 (docs/money-rules.md) computed without any intermediate rounding.

Each model is used by one project only, so a summary row by model and a bill line
(project × model) cover the same usage.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing.bills.close import month_close_customer
from billing.bills.summary import usage_summary
from billing.budgets.budgets import budget_create, budget_evaluate, budgets_evaluate_customer
from billing.metering.partitions import ensure_partitions, forget_known
from billing.models import Budget, KeyAllowance
from tests.billing.close_helpers import (
    NOV,
    customer_with_contract,
    ingest,
    key_for,
    only,
    price,
    rate,
    record,
    shanghai,
)

CENT = Decimal("0.01")
# input tokens at 100 per 1M and output tokens at 0.00000001 per 1M: a cost of exactly
# (input × 10^10 + output) × 10^-14, so any 14-decimal cost can be sent as one record.
COST_UNIT = Decimal("1E-14")
MODELS = {"chatbot": ("model-a", "model-b"), "search": ("model-c",)}

cost = st.integers(min_value=0, max_value=10**20 - 1).map(lambda n: n * COST_UNIT)
usage = st.fixed_dictionaries(
    {model: st.lists(cost, min_size=1, max_size=3) for models in MODELS.values() for model in models}
)


def exact(costs: list[Decimal], discount: Decimal, rate_value: Decimal) -> Decimal:
    with localcontext(prec=200):
        return (sum(costs, Decimal(0)) * (1 - discount / 100) * rate_value).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    costs=usage,
    discount=st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 100),
    rate_value=st.integers(min_value=1, max_value=50_000_000).map(lambda n: Decimal(n) / 1_000_000),
)
# The case: ¥63,314.79 at 80 digits, ¥63,314.80 when the product is rounded to 28 first.
@example(
    costs={"model-a": [Decimal("8932.72520899989566")], "model-b": [Decimal(0)], "model-c": [Decimal(0)]},
    discount=Decimal("1.07"),
    rate_value=Decimal("7.164621"),
)
def test_it_gives_the_summary_the_budget_and_the_bill_one_amount(costs, discount, rate_value):
    forget_known()
    ensure_partitions([NOV])
    with transaction.atomic():
        customer = customer_with_contract("AGREE", discount_percent=discount)
        rate(NOV, str(rate_value))
        records = []
        keys = {}
        for project, models in MODELS.items():
            keys[project] = key_for(customer, project_code=project)
            for model in models:
                price(model, provider="lab", input="100", cached=None, output="0.00000001")
                for i, c in enumerate(costs[model]):
                    units = int(c / COST_UNIT)
                    records.append(
                        record(
                            keys[project],
                            model=model,
                            input=units // 10**10,
                            output=units % 10**10,
                            at=shanghai(2026, 11, 2 + i, 12),
                            request_id=f"agree-{model}-{i}",
                        )
                    )
        ingest(*records, now=shanghai(2026, 11, 30))
        whole = budget_create(
            customer=customer, scope=Budget.Scope.CUSTOMER, target=None, monthly_amount=Decimal(10**9)
        )
        search = budget_create(
            customer=customer, scope=Budget.Scope.PROJECT, target="search", monthly_amount=Decimal(10**9)
        )
        month_end = shanghai(2026, 11, 30, 23)
        customer_spend, _limit, _alerts = budget_evaluate(whole, now=month_end)
        search_spend, _limit, _alerts = budget_evaluate(search, now=month_end)
        budgets_evaluate_customer(customer_id=customer.pk, now=month_end)
        allowance = KeyAllowance.objects.get(api_key=keys["chatbot"])

        bill = only(month_close_customer(customer=customer, period=NOV, today=date(2026, 12, 1)))
        lines = {line.model: line.amount.amount for line in bill.lines.all()}
        summary = {row.key: row.cost for row in usage_summary(customer=customer, period=NOV, group_by="model").rows}

        assert lines == {model: exact(c, discount, rate_value) for model, c in costs.items()}
        assert summary == lines
        assert customer_spend == sum(lines.values()) == bill.subtotal.amount
        assert search_spend == lines["model-c"]
        assert allowance.month_to_date == customer_spend
        transaction.set_rollback(True)
    forget_known()
