"""Anomaly detection on known series: median + k × 1.4826 × MAD over the trailing 28 days
with a minimum absolute amount, and month-over-month growth above 50 % once per period."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing import tasks
from billing.budgets.anomalies import anomalies_scan
from billing.budgets.budgets import budget_create
from billing.budgets.forecasting import robust_anomaly
from billing.models import Alert
from tests.billing.alerts_helpers import ingest_committed, meter_price, spend
from tests.billing.helpers import shanghai
from tests.factories import UserFactory

# 14 days at 1,000, 7 at 1,100, 7 at 900: median 1,000; deviations 14 × 0 and 14 × 100, MAD 50.
KNOWN = [Decimal("1000")] * 14 + [Decimal("1100")] * 7 + [Decimal("900")] * 7


def test_it_computes_the_threshold_exactly():
    verdict = robust_anomaly(KNOWN, Decimal("1370.65"), k=Decimal("5"), min_absolute=Decimal("50"))
    assert (verdict.median, verdict.mad) == (Decimal("1000"), Decimal("50"))
    assert verdict.threshold == Decimal("1370.6500")  # 1,000 + 5 × 1.4826 × 50
    assert not verdict.anomalous  # strictly above the threshold only
    assert robust_anomaly(KNOWN, Decimal("1370.66"), k=Decimal("5"), min_absolute=Decimal("50")).anomalous


def test_it_flags_a_spike_and_not_normal_noise():
    rng = random.Random(7)
    history = [Decimal(1000 + rng.randint(-60, 60)) for _ in range(28)]
    assert robust_anomaly(history, Decimal("3000"), k=Decimal("5")).anomalous
    for _ in range(200):
        assert not robust_anomaly(history, Decimal(1000 + rng.randint(-60, 60)), k=Decimal("5")).anomalous


def test_it_ignores_tiny_series_below_the_minimum_amount():
    history = [Decimal("1.00"), Decimal("1.20"), Decimal("0.90")] * 10
    tiny = robust_anomaly(history, Decimal("40"), k=Decimal("3"), min_absolute=Decimal("50"))
    assert not tiny.anomalous  # 40 × the usual day, but only 39 CNY above it
    assert tiny.threshold == Decimal("51.00")
    assert robust_anomaly(history, Decimal("51.01"), k=Decimal("3"), min_absolute=Decimal("50")).anomalous


def test_it_flags_against_a_flat_history_by_the_minimum_amount_alone():
    flat = [Decimal("200")] * 28
    assert not robust_anomaly(flat, Decimal("250"), min_absolute=Decimal("50")).anomalous
    assert robust_anomaly(flat, Decimal("250.01"), min_absolute=Decimal("50")).anomalous


def test_it_needs_a_week_of_history():
    assert not robust_anomaly([Decimal("1")] * 6, Decimal("100000")).anomalous


def test_k_moves_the_threshold():
    value = Decimal("1300")  # 1,000 + 4.05 × 1.4826 × 50
    verdicts = {
        k: robust_anomaly(KNOWN, value, k=Decimal(k), min_absolute=Decimal("50")).anomalous for k in (3, 4, 5, 6)
    }
    assert verdicts == {3: True, 4: True, 5: False, 6: False}


# --- The daily scan -----------------------------------------------------------------------------


@pytest.fixture
def acme_history(db, acme, acme_key, django_capture_on_commit_callbacks):
    """ACME with a budget (its channel) and 28 days of 100 CNY ±5 before 20 November."""
    meter_price()
    UserFactory(username="fiona", email="fiona@procurement.example", groups=["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        budget_create(
            customer=acme,
            scope="customer",
            target=None,
            monthly_amount=Decimal("1000000"),
            channels=["ops@acme.example.cn"],
        )
    day = date(2026, 10, 23)
    amounts = ["100", "105", "95"]
    records = []
    for i in range(28):
        records.append(spend(acme_key.key_id, amounts[i % 3], day + timedelta(days=i)))
    with time_machine.travel(shanghai(2026, 11, 20, 8), tick=False):
        ingest_committed(django_capture_on_commit_callbacks, records)
    return acme_key


@pytest.mark.django_db
@time_machine.travel(shanghai(2026, 11, 21, 7, 30), tick=False)
def test_it_alerts_the_customer_and_finance_on_a_spike_day_once(acme_history, django_capture_on_commit_callbacks):
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_history.key_id, "900", date(2026, 11, 20))])
    with django_capture_on_commit_callbacks(execute=True):
        fired = anomalies_scan(day=date(2026, 11, 20))
        assert anomalies_scan(day=date(2026, 11, 20)) == []
        assert tasks.anomalies_scan() == 0  # the beat's default day is yesterday: the same day
    scopes = sorted(a.data["scope"] for a in fired)
    assert scopes == ["api_key_model", "customer"]
    customer_alert = next(a for a in fired if a.data["scope"] == "customer")
    assert customer_alert.amount == Decimal("900.00")
    assert customer_alert.period == date(2026, 11, 1)
    assert {tuple(m.to) for m in mail.outbox} == {("ops@acme.example.cn",), ("fiona@procurement.example",)}
    assert len(mail.outbox) == 4  # two alerts × two channels


@pytest.mark.django_db
@time_machine.travel(shanghai(2026, 11, 21, 7, 30), tick=False)
def test_it_stays_quiet_on_a_normal_day(acme_history, django_capture_on_commit_callbacks):
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_history.key_id, "104", date(2026, 11, 20))])
    assert anomalies_scan(day=date(2026, 11, 20), k=Decimal("5"), min_absolute=Decimal("50")) == []
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_it_alerts_month_over_month_growth_once_per_period(acme, acme_key, django_capture_on_commit_callbacks):
    meter_price()
    key = acme_key.key_id
    records = []
    for day in range(1, 32):
        records.append(spend(key, "100", date(2026, 10, day)))
    for day in range(1, 31):
        records.append(spend(key, "160", date(2026, 11, day)))  # +60 %
    for day in range(1, 4):
        records.append(spend(key, "200", date(2026, 12, day)))  # +25 %: no alert
    with time_machine.travel(shanghai(2026, 12, 4, 8), tick=False):
        ingest_committed(django_capture_on_commit_callbacks, records)
        for day in (5, 6, 30):
            anomalies_scan(day=date(2026, 11, day), min_absolute=Decimal("50"))
        anomalies_scan(day=date(2026, 12, 3), min_absolute=Decimal("50"))

    growth = Alert.objects.filter(data__scope="month_over_month")
    assert list(growth.values_list("period", "amount")) == [(date(2026, 11, 1), Decimal("800.00"))]  # 5 days × 160
    assert growth.get().data["growth"] == "0.6000"


@pytest.mark.django_db
def test_it_ignores_month_over_month_growth_on_tiny_amounts(acme, acme_key, django_capture_on_commit_callbacks):
    meter_price()
    key = acme_key.key_id
    records = [spend(key, "1", date(2026, 10, d)) for d in range(1, 11)]
    records += [spend(key, "5", date(2026, 11, d)) for d in range(1, 11)]  # +400 %, but 40 CNY
    with time_machine.travel(shanghai(2026, 11, 11, 8), tick=False):
        ingest_committed(django_capture_on_commit_callbacks, records)
        anomalies_scan(day=date(2026, 11, 10), min_absolute=Decimal("50"))
    assert not Alert.objects.exists()


def test_it_judges_a_day_against_the_same_kind_of_day():
    from datetime import date, timedelta
    from decimal import Decimal

    from billing.budgets.forecasting import day_anomaly, robust_anomaly

    saturday = date(2026, 11, 28)
    daily = {}
    for i in range(1, 29):
        day = saturday - timedelta(days=i)
        daily[day] = Decimal("20") if day.weekday() >= 5 else Decimal("1000") + Decimal(i % 3)
    daily[saturday] = Decimal("1000")  # a weekday's spend on a quiet Saturday
    history = [daily[saturday - timedelta(days=i)] for i in range(28, 0, -1)]

    assert not robust_anomaly(history, daily[saturday], min_absolute=Decimal("50")).anomalous  # hidden by weekdays
    assert day_anomaly(daily, saturday, min_absolute=Decimal("50")).anomalous
    monday = saturday + timedelta(days=2)
    daily[saturday] = Decimal("20")
    daily[saturday + timedelta(days=1)] = Decimal("20")
    daily[monday] = Decimal("1001")
    assert not day_anomaly(daily, monday, min_absolute=Decimal("50")).anomalous
