"""The overview: month to date as the usage summary computes it, the forecast and budget
use as the budget evaluation computes them, the last alerts, a daily chart — read from the
daily rollups, never the raw usage table."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.budgets.spend import budget_use, spend_forecast
from billing.pricing.money import quantize_money
from common.admin_display import money_text
from tests.portal.conftest import TODAY

pytestmark = pytest.mark.django_db


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return match.group(1).strip()


def test_it_shows_month_to_date_as_the_usage_summary_api(client, alice, alice_client, acme_world):
    api = alice_client.get("/api/v1/usage-summary/").json()
    expected = sum((Decimal(row["cost"]) for row in api["rows"]), Decimal("0"))
    client.force_login(alice)

    html = client.get("/portal/").content.decode()

    assert api["period"] == "2026-11"
    assert expected > 0
    assert _text(html, "mtd-spend") == money_text(expected)
    assert "尚无价格、未计入的请求：1 个" in _text(html, "unpriced")


def test_it_shows_the_forecast_and_each_budget_as_the_evaluation_computes_them(client, alice, acme_world):
    budget = acme_world["budget"]
    spend, limit = budget_use(budget)
    forecast = spend_forecast(budget.customer, today=TODAY)
    client.force_login(alice)

    html = client.get("/portal/").content.decode()

    assert _text(html, "forecast") == money_text(quantize_money(forecast.projected))
    assert forecast.projected > spend
    card = html[html.index(f'id="budget-{budget.pk}"') :]
    assert f'<span class="budget-spend">{money_text(quantize_money(spend))}</span>' in card
    assert f'<span class="budget-limit">{money_text(limit)}</span>' in card
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in card
    assert ">50%</text>" in card and ">80%</text>" in card and ">100%</text>" in card


def test_it_lists_the_last_five_alerts_as_the_alerts_api(client, alice, alice_client, acme_world):
    api = alice_client.get("/api/v1/alerts/").json()
    client.force_login(alice)

    html = client.get("/portal/").content.decode()

    feed = html[html.index('id="latest-alerts"') :]
    assert len(api) >= 2
    assert feed.count("<li>") == min(len(api), 5)
    assert "50%" in feed


def test_its_daily_chart_has_each_model_and_day(client, alice, acme_world):
    client.force_login(alice)

    html = client.get("/portal/").content.decode()

    chart = html[html.index('id="daily-chart"') :]
    assert ">gpt-4o</text>" in chart and ">claude-x</text>" in chart
    assert "11-05 · gpt-4o: ¥" in chart
    assert ">10-07</text>" in chart  # 30 days back from 5 November


def test_it_reads_the_rollups_never_the_raw_usage_table(client, alice, acme_world):
    client.force_login(alice)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/portal/").status_code == 200

    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "billing_usagerollup" in sql
    assert "billing_usagerecord" not in sql


def test_it_is_the_developers_overview_too(client, bob, acme_world):
    client.force_login(bob)

    page = client.get("/portal/")

    assert page.status_code == 200
    nav = page.content.decode()
    assert 'href="/portal/usage/"' in nav
    assert 'href="/portal/bills/"' not in nav


def test_it_shows_charlie_his_own_customer_only(client, charlie, acme_world):
    client.force_login(charlie)

    html = client.get("/portal/").content.decode()

    assert _text(html, "mtd-spend") == "¥0.00"
    assert "预算" in html and "尚未设置预算" in html


def test_the_chart_by_model_adds_up_to_the_daily_spend(acme, acme_usage):
    from datetime import date

    from billing.budgets.spend import daily_spend_by_model, daily_spend_cny

    start, end = date(2026, 10, 7), TODAY
    by_model = daily_spend_by_model(acme, start, end)
    daily = daily_spend_cny(acme, start, end)

    assert set(by_model) == {("openai", "gpt-4o"), ("anthropic", "claude-x")}
    assert len(daily) == 30
    for day, value in daily.items():
        assert sum((per_day.get(day, Decimal(0)) for per_day in by_model.values()), Decimal(0)) == value
