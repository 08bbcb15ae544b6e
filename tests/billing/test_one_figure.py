"""One figure per period (CONTRACT "One figure, limits and exports"): for usage whose rows
round differently in every grouping (tests/billing/one_figure_helpers.py), the usage
summary's ``total`` for each grouping, the portal's month to date, its gauges and budget
cards, the forecast base, the staff dashboard, the allowance's ``month_to_date`` and the
closed bill's usage lines are one amount."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from billing.bills.close import month_close_customer
from billing.budgets.budgets import budget_create, budgets_evaluate_customer
from billing.budgets.spend import spend_forecast
from billing.models import BillLine, Budget
from billing.pricing.services import price_version_set
from tests.billing.close_helpers import NOV, ingest, key_for, only, record, shanghai
from tests.billing.one_figure_helpers import KEY_ROW, LINE, PROJECT_TOTAL, ROWS_ADD_UP_TO, TOTAL, three_by_four
from workspace.selectors import dashboard

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-summary/"


@pytest.fixture
def world(acme, time_machine):
    time_machine.move_to(shanghai(2026, 11, 20, 10), tick=False)
    keys = three_by_four(acme, shanghai(2026, 11, 20, 9))
    budget_create(customer=acme, scope=Budget.Scope.CUSTOMER, target=None, monthly_amount=Decimal("100"))
    budget_create(customer=acme, scope=Budget.Scope.PROJECT, target="beta", monthly_amount=Decimal("100"))
    budget_create(customer=acme, scope=Budget.Scope.API_KEY, target=keys["gamma"].key_id, monthly_amount=Decimal(50))
    budgets_evaluate_customer(customer_id=acme.pk)
    return keys


def totals(client, period: str, **params) -> dict[str, Decimal]:
    answers = {
        g: client.get(URL, {"customer": "ACME", "period": period, "group_by": g, **params}) for g in ROWS_ADD_UP_TO
    }
    assert all(a.status_code == 200 for a in answers.values())
    return {g: Decimal(a.json()["total"]) for g, a in answers.items()}


@pytest.mark.parametrize("group_by", list(ROWS_ADD_UP_TO))
def test_every_grouping_answers_the_bills_total_while_its_rows_round_on_their_own(finance_client, world, group_by):
    answer = finance_client.get(URL, {"customer": "ACME", "period": "2026-11", "group_by": group_by}).json()

    assert answer["total"] == "12.00"
    assert sum(Decimal(row["cost"]) for row in answer["rows"]) == ROWS_ADD_UP_TO[group_by]
    assert (answer["closed"], answer["late"]) == (False, {"requests": 0, "cost": "0.00", "bill": None, "parts": []})
    text = finance_client.get(
        URL, {"customer": "ACME", "period": "2026-11", "group_by": group_by, "format": "csv"}
    ).content.decode()
    last = list(csv.DictReader(io.StringIO(text)))[-1]
    assert (last["key"], last["requests"], last["cost"]) == ("total", "12", "12.00")


def test_a_projects_total_is_its_own_lines(finance_client, world):
    assert set(totals(finance_client, "2026-11", project="beta").values()) == {PROJECT_TOTAL}


def test_the_overview_the_gauges_the_cards_the_forecast_the_dashboard_and_the_allowance_agree(
    acme, alice, finance_client, gateway_client, world
):
    portal = Client()
    portal.force_login(alice)

    overview = portal.get("/portal/").context
    cards = {card["budget"].scope: card["spend"] for card in overview["budgets"]}
    budget_rows = {row["budget"].scope: row["spend"] for row in portal.get("/portal/budgets/").context["rows"]}
    usage = {u.customer.code: u.cost for u in dashboard(today=date(2026, 11, 20)).usage}
    allowances = {
        project: gateway_client.get(f"/api/v1/api-keys/{key.key_id}/allowance/").json()["month_to_date"]
        for project, key in world.items()
    }

    assert set(totals(finance_client, "2026-11").values()) == {TOTAL}
    assert overview["spend"] == TOTAL
    assert cards == budget_rows == {"customer": TOTAL, "project": PROJECT_TOTAL, "api_key": KEY_ROW}
    assert spend_forecast(acme, today=date(2026, 11, 20)).spent == TOTAL
    assert usage["ACME"] == TOTAL
    # Each key's tightest budget is the customer's (12 % against 8 % and 4 %).
    assert allowances == {"alpha": "12.00", "beta": "12.00", "gamma": "12.00"}


def test_the_closed_bill_carries_that_figure_and_the_summary_still_answers_it(
    finance_client, acme, world, time_machine
):
    time_machine.move_to(shanghai(2026, 12, 2, 10), tick=False)

    bill = only(month_close_customer(customer=acme, period=NOV, today=date(2026, 12, 2)))

    usage_lines = [line.amount.amount for line in bill.lines.filter(kind=BillLine.Kind.USAGE)]
    assert usage_lines == [LINE] * 12
    assert sum(usage_lines) == TOTAL == bill.subtotal.amount
    assert set(totals(finance_client, "2026-11").values()) == {TOTAL}


def test_the_figure_follows_the_bills_variant_lines(finance_client, acme, time_machine):
    """Standard and Batch calls of one model are two bill lines, each rounded: ¥1.00 + ¥1.00,
    although the model's row (¥2.008) rounds to ¥2.01."""
    time_machine.move_to(shanghai(2026, 11, 20, 10), tick=False)
    price_version_set(
        provider="lab",
        model="lab-b",
        effective_from=shanghai(2026, 1, 1),
        currency="CNY",
        prices={"input_mtok": "1004", "output_mtok": "0"},
        variants=[{"when": {"processing": "batch"}, "prices": {"input_mtok": "502"}}],
    )
    key = key_for(acme)
    at = shanghai(2026, 11, 20, 9)
    ingest(
        record(key, model="lab-b", provider="lab", input=1000, at=at),
        {**record(key, model="lab-b", provider="lab", input=2000, at=at), "processing": "batch"},
    )

    answer = finance_client.get(URL, {"customer": "ACME", "period": "2026-11", "group_by": "model"}).json()
    (row,) = answer["rows"]
    assert (row["cost"], answer["total"]) == ("2.01", "2.00")
    assert [(v["variant"], v["cost"]) for v in row["variants"]] == [("batch", "1.00"), ("standard", "1.00")]

    time_machine.move_to(shanghai(2026, 12, 2, 10), tick=False)
    bill = only(month_close_customer(customer=acme, period=NOV, today=date(2026, 12, 2)))
    assert [(line.variant, line.amount.amount) for line in bill.lines.order_by("position")] == [
        ("standard", LINE),
        ("batch", LINE),
    ]
    assert finance_client.get(URL, {"customer": "ACME", "period": "2026-11"}).json()["total"] == "2.00"
