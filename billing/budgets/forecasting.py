"""Pure functions for spend forecasts and anomaly detection (no database; tested on series).

Forecast: month-end spend = spend so far + the expected spend of each remaining day, where a
day's expectation is the MEDIAN of the same kind of day (weekday or weekend) over the
trailing 28 days — so one spike does not bend the line, and quiet weekends are not billed
as busy weekdays.

Anomaly: a day is anomalous when it exceeds ``median + k × 1.4826 × MAD`` of its own trailing
28 days AND exceeds the median by at least a minimum absolute amount (so tiny series do not
cry wolf). 1.4826 × MAD estimates the standard deviation for normal data, robustly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

MAD_SCALE = Decimal("1.4826")
DEFAULT_K = Decimal("5")
DEFAULT_MIN_ABSOLUTE = Decimal("50.00")  # CNY
WINDOW_DAYS = 28


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class Forecast:
    spent: Decimal
    projected: Decimal
    weekday_rate: Decimal
    weekend_rate: Decimal
    crossing_day: date | None  # first day the cumulative spend reaches the budget, if it does


def forecast_month_end(
    daily: dict[date, Decimal],
    *,
    today: date,
    month_end: date,
    budget: Decimal | None = None,
    spent: Decimal | None = None,
) -> Forecast:
    """Project the spend of the month containing ``today`` to ``month_end``.

    ``daily`` holds spend per day (missing days are zero) and must cover the trailing 28 days
    before ``today`` where history exists; today's entry is the partial day so far.
    ``spent``: the month's spend so far as its bill counts it (the period's one figure);
    by default the sum of this month's days.
    """
    month_start = today.replace(day=1)
    if spent is None:
        spent = sum((v for d, v in daily.items() if month_start <= d <= today), Decimal(0))
    window = [today - timedelta(days=i) for i in range(1, WINDOW_DAYS + 1)]
    known = [d for d in window if d >= min(daily, default=today)]
    weekdays = [daily.get(d, Decimal(0)) for d in known if not _is_weekend(d)]
    weekends = [daily.get(d, Decimal(0)) for d in known if _is_weekend(d)]
    weekday_rate = Decimal(median(weekdays)) if weekdays else Decimal(0)
    weekend_rate = Decimal(median(weekends)) if weekends else weekday_rate
    cumulative = spent
    crossing = today if budget is not None and spent >= budget else None
    rate_today = weekend_rate if _is_weekend(today) else weekday_rate
    cumulative += max(rate_today - daily.get(today, Decimal(0)), Decimal(0))
    if crossing is None and budget is not None and cumulative >= budget:
        crossing = today
    day = today + timedelta(days=1)
    while day <= month_end:
        cumulative += weekend_rate if _is_weekend(day) else weekday_rate
        if crossing is None and budget is not None and cumulative >= budget:
            crossing = day
        day += timedelta(days=1)
    return Forecast(spent, cumulative, weekday_rate, weekend_rate, crossing)


@dataclass(frozen=True)
class AnomalyVerdict:
    anomalous: bool
    value: Decimal
    median: Decimal
    mad: Decimal
    threshold: Decimal


def robust_anomaly(
    history: list[Decimal], value: Decimal, *, k: Decimal = DEFAULT_K, min_absolute: Decimal = DEFAULT_MIN_ABSOLUTE
) -> AnomalyVerdict:
    """Is ``value`` anomalously high against ``history`` (its trailing days)?"""
    if len(history) < 7:
        return AnomalyVerdict(False, value, Decimal(0), Decimal(0), Decimal(0))
    m = Decimal(median(history))
    mad = Decimal(median([abs(x - m) for x in history]))
    threshold = max(m + k * MAD_SCALE * mad, m + min_absolute)
    return AnomalyVerdict(value > threshold, value, m, mad, threshold)


def month_over_month_growth(current: Decimal, previous: Decimal) -> Decimal | None:
    """Growth of ``current`` over ``previous`` as a fraction (0.5 = +50 %); None without a base."""
    if previous <= 0:
        return None
    return (current - previous) / previous


def day_anomaly(
    daily: dict[date, Decimal], day: date, *, k: Decimal = DEFAULT_K, min_absolute: Decimal = DEFAULT_MIN_ABSOLUTE
) -> AnomalyVerdict:
    """``day`` against the same kind of day (weekday or weekend) in its trailing 28 days:
    a busy Monday is not an anomaly because Sundays are quiet, and a spike on a quiet
    Saturday is not hidden by busy weekdays. Missing days count as zero spend."""
    kind = _is_weekend(day)
    history = [
        daily.get(day - timedelta(days=i), Decimal(0))
        for i in range(1, WINDOW_DAYS + 1)
        if _is_weekend(day - timedelta(days=i)) == kind
    ]
    return robust_anomaly(history, daily.get(day, Decimal(0)), k=k, min_absolute=min_absolute)
