"""The month-end forecast on known series: weekday-aware, robust to one spike, and one
``forecast`` alert per budget and period with the date the budget will be reached.

November 2026 starts on a Sunday; "today" is Thursday 12 November, noon in Shanghai.
History: 1,000 CNY on weekdays, 100 CNY on weekend days.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing.budgets.budgets import budget_create, budget_evaluate
from billing.budgets.forecasting import forecast_month_end, month_over_month_growth
from billing.models import Alert
from tests.billing.alerts_helpers import ingest_committed, meter_price, spend
from tests.billing.helpers import shanghai

TODAY = date(2026, 11, 12)
MONTH_END = date(2026, 11, 30)
WEEKDAY, WEEKEND = Decimal("1000"), Decimal("100")


def steady(start: date, end: date) -> dict[date, Decimal]:
    days = {}
    day = start
    while day <= end:
        days[day] = WEEKEND if day.weekday() >= 5 else WEEKDAY
        day += timedelta(days=1)
    return days


def steady_series() -> dict[date, Decimal]:
    """Six weeks of the steady pattern up to yesterday, and 400 CNY so far today."""
    daily = steady(date(2026, 10, 1), TODAY - timedelta(days=1))
    daily[TODAY] = Decimal("400")
    return daily


def spiky_series() -> dict[date, Decimal]:
    daily = steady_series()
    daily[date(2026, 11, 2)] = Decimal("12000")  # one runaway Monday
    return daily


def naive_projection(daily: dict[date, Decimal]) -> Decimal:
    """What a straight line through the month so far gives: average per elapsed day × days."""
    spent = sum(v for d, v in daily.items() if d >= TODAY.replace(day=1))
    return spent * MONTH_END.day / TODAY.day


def test_it_projects_weekdays_and_weekends_at_their_own_pace():
    forecast = forecast_month_end(steady_series(), today=TODAY, month_end=MONTH_END, budget=Decimal("20000"))
    # Spent: Sun 1 (100) + Mon 2–Fri 6 (5,000) + weekend (200) + Mon 9–Wed 11 (3,000) + today 400 = 8,700.
    assert forecast.spent == Decimal("8700")
    assert (forecast.weekday_rate, forecast.weekend_rate) == (WEEKDAY, WEEKEND)
    # Today tops up to 1,000 (9,300); then 12 weekdays and 6 weekend days remain: 9,300 + 12,000 + 600.
    assert forecast.projected == Decimal("21900")
    # Cumulative: Fri 13 10,300 … Fri 20 15,500, Sun 22 15,700, Thu 26 19,700, Fri 27 20,700.
    assert forecast.crossing_day == date(2026, 11, 27)


def test_it_does_not_draw_a_straight_line_through_one_spike():
    daily = spiky_series()
    budget = Decimal("35000")
    forecast = forecast_month_end(daily, today=TODAY, month_end=MONTH_END, budget=budget)
    assert forecast.spent == Decimal("19700")
    assert forecast.weekday_rate == WEEKDAY  # the median of 20 weekdays ignores the spike
    assert forecast.projected == Decimal("32900")  # 19,700 + 600 + 12,000 + 600
    assert forecast.crossing_day is None
    # A straight line through the spike would have crossed the budget: 19,700 / 12 × 30 = 49,250.
    assert naive_projection(daily) == Decimal("49250")
    assert naive_projection(daily) > budget > forecast.projected


def test_it_reports_today_when_the_budget_is_already_spent():
    forecast = forecast_month_end(steady_series(), today=TODAY, month_end=MONTH_END, budget=Decimal("8000"))
    assert forecast.crossing_day == TODAY


def test_it_forecasts_a_new_customer_from_its_own_days_only():
    # Usage began on Monday 9 November: the empty weeks before are not counted as zero days.
    daily = {date(2026, 11, 9): Decimal("500"), date(2026, 11, 10): Decimal("700"), date(2026, 11, 11): Decimal("600")}
    forecast = forecast_month_end(daily, today=TODAY, month_end=MONTH_END, budget=None)
    assert (forecast.weekday_rate, forecast.weekend_rate) == (Decimal("600"), Decimal("600"))
    assert forecast.projected == Decimal("1800") + Decimal("600") * 19


def test_it_measures_month_over_month_growth():
    assert month_over_month_growth(Decimal("150"), Decimal("100")) == Decimal("0.5")
    assert month_over_month_growth(Decimal("90"), Decimal("100")) == Decimal("-0.1")
    assert month_over_month_growth(Decimal("90"), Decimal("0")) is None


# --- Through the budget -------------------------------------------------------------------------


@pytest.fixture
def history(db, acme, acme_key, django_capture_on_commit_callbacks):
    """The series of the tests above, ingested as real usage for ACME's key."""
    meter_price()

    def load(daily: dict[date, Decimal]) -> None:
        records = [spend(acme_key.key_id, amount, day, hour=9) for day, amount in sorted(daily.items())]
        ingest_committed(django_capture_on_commit_callbacks, records)

    return load


@pytest.mark.django_db
@time_machine.travel(shanghai(2026, 11, 12, 12), tick=False)
def test_it_fires_one_forecast_alert_with_the_expected_date(acme, history, django_capture_on_commit_callbacks):
    budget = budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("20000"), channels=["ops@acme.example.cn"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        history(steady_series())
        for _ in range(3):
            budget_evaluate(budget)
    alerts = list(Alert.objects.all())
    assert [(a.kind, a.threshold, a.amount) for a in alerts] == [("forecast", None, Decimal("8700.00"))]
    assert alerts[0].data == {"projected": "21900.00", "expected_date": "2026-11-27"}
    assert "2026-11-27" in alerts[0].message
    assert alerts[0].dedupe_key == f"forecast:{budget.pk}:2026-11"


@pytest.mark.django_db
@time_machine.travel(shanghai(2026, 11, 12, 12), tick=False)
def test_it_fires_no_forecast_alert_from_one_spike(acme, history, django_capture_on_commit_callbacks):
    budget = budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("35000"))
    with django_capture_on_commit_callbacks(execute=True):
        history(spiky_series())
        budget_evaluate(budget)
    # 19,700 is past 50 % of 35,000, but the month is not projected past the budget.
    assert list(Alert.objects.values_list("kind", "threshold")) == [("threshold", 50)]
