"""Billing periods: calendar months in Asia/Shanghai, computed in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from billing.periods import (
    business_day,
    current_period,
    format_period,
    next_period,
    parse_period,
    period_bounds,
    period_of,
    previous_period,
)
from tests.billing.helpers import shanghai


def test_it_puts_the_last_shanghai_second_of_october_in_october():
    moment = datetime.fromisoformat("2026-10-31T23:59:59+08:00")

    assert (period_of(moment), business_day(moment)) == (date(2026, 10, 1), date(2026, 10, 31))


def test_it_puts_utc_afternoon_of_october_31_in_november():
    moment = datetime.fromisoformat("2026-10-31T16:00:00Z")

    assert (period_of(moment), business_day(moment)) == (date(2026, 11, 1), date(2026, 11, 1))


def test_it_takes_a_date_as_it_is():
    assert period_of(date(2026, 10, 31)) == date(2026, 10, 1)


@pytest.mark.parametrize(
    ("period", "months", "expected"),
    [
        (date(2026, 11, 1), 1, date(2026, 12, 1)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2027, 1, 1), -1, date(2026, 12, 1)),
        (date(2026, 10, 1), 14, date(2027, 12, 1)),
        (date(2026, 10, 1), -22, date(2024, 12, 1)),
    ],
)
def test_it_steps_between_periods(period, months, expected):
    assert next_period(period, months) == expected


def test_it_bounds_a_period_in_shanghai():
    start, end = period_bounds(date(2026, 12, 1))

    assert start == shanghai(2026, 12, 1)
    assert end == shanghai(2027, 1, 1)
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [("2026-10", date(2026, 10, 1)), ("2027-01", date(2027, 1, 1))])
def test_it_parses_a_period(text, expected):
    assert parse_period(text) == expected
    assert format_period(expected) == text


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "2026-10-01", "202610", "", None, " 2026-10"])
def test_it_refuses_what_is_not_a_period(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_it_knows_the_current_and_previous_period_in_shanghai():
    # 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Shanghai
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False):
        assert (current_period(), previous_period()) == (date(2027, 1, 1), date(2026, 12, 1))
    with time_machine.travel(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC), tick=False):
        assert (current_period(), previous_period()) == (date(2026, 12, 1), date(2026, 11, 1))
