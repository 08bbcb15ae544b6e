"""POST/GET /api/v1/exchange-rates/: CNY per unit of a currency, per period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import ExchangeRate

pytestmark = pytest.mark.django_db

URL = "/api/v1/exchange-rates/"


def test_it_creates_a_rate(finance_client, finance_user):
    response = finance_client.post(URL, {"currency": "USD", "period": "2026-11", "rate": "7.1234"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {"currency": "USD", "period": "2026-11", "rate": "7.123400", "editable": True}
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.period, rate.rate) == ("USD", date(2026, 11, 1), Decimal("7.1234"))
    assert rate.updated_by == finance_user


def test_it_updates_the_rate_of_the_same_period(finance_client):
    finance_client.post(URL, {"currency": "USD", "period": "2026-11", "rate": "7.1234"}, format="json")

    response = finance_client.post(URL, {"currency": "USD", "period": "2026-11", "rate": "7.2"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["rate"] == "7.200000"
    assert ExchangeRate.objects.get().rate == Decimal("7.2")


def test_it_answers_409_to_changing_a_locked_rate(finance_client):
    finance_client.post(URL, {"currency": "USD", "period": "2026-10", "rate": "7.1"}, format="json")
    ExchangeRate.objects.update(locked_at=timezone.now())
    before = list(ExchangeRate.objects.values())

    response = finance_client.post(URL, {"currency": "USD", "period": "2026-10", "rate": "7.3"}, format="json")

    assert response.status_code == 409, response.content
    assert set(response.json()) == {"detail", "errors"}
    assert ExchangeRate.objects.get().rate == Decimal("7.1")
    assert list(ExchangeRate.objects.values()) == before  # nothing changed: not the rate, its lock or who set it


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "November", ""])
def test_it_answers_400_to_a_bad_period(finance_client, period):
    response = finance_client.post(URL, {"currency": "USD", "period": period, "rate": "7.1"}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["period"]
    assert ExchangeRate.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"currency": "CNY"}, "currency"),
        ({"currency": "EUR"}, "currency"),
        ({"rate": "0"}, "rate"),
        ({"rate": "-7.1"}, "rate"),
        ({"rate": "seven"}, "rate"),
    ],
)
def test_it_answers_400_to_a_bad_rate(finance_client, fields, field):
    data = {"currency": "USD", "period": "2026-11", "rate": "7.1", **fields}

    response = finance_client.post(URL, data, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert ExchangeRate.objects.count() == 0


def test_it_lists_rates_latest_period_first(finance_client):
    for period, rate in [("2026-09", "7.05"), ("2026-11", "7.2"), ("2026-10", "7.1")]:
        finance_client.post(URL, {"currency": "USD", "period": period, "rate": rate}, format="json")
    ExchangeRate.objects.filter(period=date(2026, 9, 1)).update(locked_at=timezone.now())

    response = finance_client.get(URL)

    assert response.status_code == 200
    assert response.json() == [
        {"currency": "USD", "period": "2026-11", "rate": "7.200000", "editable": True},
        {"currency": "USD", "period": "2026-10", "rate": "7.100000", "editable": True},
        {"currency": "USD", "period": "2026-09", "rate": "7.050000", "editable": False},
    ]


def test_it_lets_only_finance_use_exchange_rates(alice_client, bob_client, charlie_client, gateway_client, client):
    data = {"currency": "USD", "period": "2026-11", "rate": "7.1"}
    for other in (alice_client, bob_client, charlie_client, gateway_client):
        assert other.get(URL).status_code == 403
        assert other.post(URL, data, format="json").status_code == 403
    assert client.get(URL).status_code == 401
    assert ExchangeRate.objects.count() == 0


def test_the_admin_refuses_a_rate_for_a_period_outside_2000_2100(admin_client):
    """Issue 21: one period rule everywhere, the admin's rate form included."""
    from django.urls import reverse

    url = reverse("admin:billing_exchangerate_add")
    page = admin_client.post(url, {"currency": "USD", "period": "9999-12-01", "rate": "7.1"})

    assert page.status_code == 200
    assert "2100-12" in page.content.decode()
    assert not ExchangeRate.objects.filter(period__year=9999).exists()
