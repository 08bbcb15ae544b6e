"""Billing periods: calendar months in BILLING_TIME_ZONE. Everyone computes them here.

A period is represented by the date of its first day (``date(2026, 11, 1)``) and written
``YYYY-MM`` in the API.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
# The periods anyone may name (a query, a form, a command): the year bounded, so that no
# date arithmetic overflows (``9999-12`` has no next period) and no absurd range is summed.
FIRST_PERIOD = date(2000, 1, 1)
LAST_PERIOD = date(2100, 12, 1)


class PeriodOutOfRange(ValueError):
    """A well-formed period outside FIRST_PERIOD…LAST_PERIOD."""


@cache
def billing_tz() -> ZoneInfo:
    return ZoneInfo(settings.BILLING_TIME_ZONE)


def business_day(moment: datetime) -> date:
    """The calendar day of an aware datetime in the billing time zone."""
    return moment.astimezone(billing_tz()).date()


def period_of(moment: datetime | date) -> date:
    day = business_day(moment) if isinstance(moment, datetime) else moment
    return day.replace(day=1)


def next_period(period: date, months: int = 1) -> date:
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(period: date) -> datetime:
    """The first instant of ``period`` (aware, billing time zone)."""
    return datetime.combine(period, time.min, tzinfo=billing_tz())


def period_bounds(period: date) -> tuple[datetime, datetime]:
    return period_start(period), period_start(next_period(period))


def parse_period(value: str) -> date:
    match = _PERIOD_RE.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{value!r} is not a period; write it as YYYY-MM.")
    period = date(int(match.group(1)), int(match.group(2)), 1)
    if not FIRST_PERIOD <= period <= LAST_PERIOD:
        raise PeriodOutOfRange(f"{value!r} is outside {format_period(FIRST_PERIOD)}…{format_period(LAST_PERIOD)}.")
    return period


def format_period(period: date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


def current_period(now: datetime | None = None) -> date:
    from django.utils import timezone

    return period_of(now or timezone.now())


def previous_period(now: datetime | None = None) -> date:
    return next_period(current_period(now), -1)


PERIOD_ERROR = _("Write the period as YYYY-MM.")
PERIOD_RANGE_ERROR = _("The period must be between 2000-01 and 2100-12.")


def period_from(value: str) -> date:
    """``YYYY-MM`` → the period's first day, or the one error every period field shows."""
    try:
        return parse_period(value)
    except PeriodOutOfRange as exc:
        raise ValidationError(PERIOD_RANGE_ERROR, code="out_of_range") from exc
    except ValueError as exc:
        raise ValidationError(PERIOD_ERROR, code="invalid") from exc


class PeriodFormField(forms.CharField):
    """A month typed as ``YYYY-MM`` in a form or a query parameter (blank: None)."""

    def to_python(self, value) -> date | None:
        value = super().to_python(value)
        return period_from(value) if value else None
