"""POST/GET /api/v1/prices/: finance adds and overrides price versions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import PriceVersion

pytestmark = pytest.mark.django_db

URL = "/api/v1/prices/"


def body(**fields):
    data = {
        "provider": "openai",
        "model": "gpt-4o",
        "effective_from": "2026-11-01",
        "currency": "USD",
        "input_per_mtok": "2.50",
        "cached_input_per_mtok": "1.25",
        "output_per_mtok": "10.00",
    }
    data.update(fields)
    return data


def test_it_reads_a_date_as_midnight_in_shanghai(finance_client, finance_user):
    response = finance_client.post(URL, body(), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["effective_from"] == "2026-11-01T00:00:00+08:00"
    assert (data["input_per_mtok"], data["cached_input_per_mtok"], data["output_per_mtok"]) == (
        "2.50000000",
        "1.25000000",
        "10.00000000",
    )
    assert (data["source"], data["editable"]) == ("api", True)
    version = PriceVersion.objects.get()
    assert version.effective_from == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert (version.input_per_mtok, version.cached_input_per_mtok, version.output_per_mtok) == (
        Decimal("2.5"),
        Decimal("1.25"),
        Decimal("10"),
    )
    assert version.created_by == finance_user


def test_it_takes_an_rfc3339_time(finance_client):
    response = finance_client.post(URL, body(effective_from="2026-11-01T09:30:00Z"), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["effective_from"] == "2026-11-01T17:30:00+08:00"
    assert PriceVersion.objects.get().effective_from == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_it_takes_a_version_without_a_cached_price(finance_client):
    response = finance_client.post(URL, body(cached_input_per_mtok=None), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["cached_input_per_mtok"] is None
    assert PriceVersion.objects.get().effective_cached_input_per_mtok == Decimal("2.5")


@pytest.mark.parametrize(
    "value", ["2026-11-01T09:30:00", "2026-11-01 09:30", "next monday", "", "2026-02-30", "2026-02-30T00:00:00Z"]
)
def test_it_answers_400_naming_effective_from(finance_client, value):
    response = finance_client.post(URL, body(effective_from=value), format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["effective_from"]
    assert PriceVersion.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"input_per_mtok": "-0.01"}, "input_per_mtok"),
        ({"output_per_mtok": "-1"}, "output_per_mtok"),
        ({"cached_input_per_mtok": "-1"}, "cached_input_per_mtok"),
        ({"input_per_mtok": "abc"}, "input_per_mtok"),
        ({"cached_input_per_mtok": "3.00"}, "cached_input_per_mtok"),  # above the input price
        ({"currency": "EUR"}, "currency"),
        ({"model": ""}, "model"),
        ({"provider": "p" * 41}, "provider"),
    ],
)
def test_it_answers_400_to_a_bad_price(finance_client, fields, field):
    response = finance_client.post(URL, body(**fields), format="json")

    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "errors"}
    assert field in response.json()["errors"]
    assert PriceVersion.objects.count() == 0


def test_it_overrides_the_version_with_the_same_start(finance_client):
    created = finance_client.post(URL, body(), format="json")

    response = finance_client.post(
        URL,
        body(effective_from="2026-10-31T16:00:00Z", input_per_mtok="2.00", cached_input_per_mtok=None),
        format="json",
    )

    assert created.status_code == 201
    assert response.status_code == 200, response.content
    assert response.json()["id"] == created.json()["id"]
    version = PriceVersion.objects.get()
    assert (version.input_per_mtok, version.cached_input_per_mtok) == (Decimal("2"), None)


def test_it_adds_a_new_version_for_a_new_start(finance_client):
    finance_client.post(URL, body(), format="json")

    response = finance_client.post(URL, body(effective_from="2026-12-01", input_per_mtok="3"), format="json")

    assert response.status_code == 201
    assert list(PriceVersion.objects.order_by("effective_from").values_list("input_per_mtok", flat=True)) == [
        Decimal("2.5"),
        Decimal("3"),
    ]


def test_it_answers_409_to_overriding_a_locked_version(finance_client):
    finance_client.post(URL, body(), format="json")
    PriceVersion.objects.update(locked_at=timezone.now())
    before = list(PriceVersion.objects.values())

    response = finance_client.post(URL, body(input_per_mtok="9.99"), format="json")

    assert response.status_code == 409, response.content
    assert set(response.json()) == {"detail", "errors"}
    assert PriceVersion.objects.get().input_per_mtok == Decimal("2.5")
    assert list(PriceVersion.objects.values()) == before


def test_it_lists_versions_with_filters(finance_client):
    finance_client.post(URL, body(), format="json")
    finance_client.post(URL, body(effective_from="2026-12-01", input_per_mtok="3"), format="json")
    finance_client.post(URL, body(provider="anthropic", model="claude-x"), format="json")
    PriceVersion.objects.filter(model="claude-x").update(locked_at=timezone.now())

    everything = finance_client.get(URL).json()
    gpt = finance_client.get(URL, {"model": "gpt-4o"}).json()
    anthropic = finance_client.get(URL, {"provider": "anthropic"}).json()
    nothing = finance_client.get(URL, {"provider": "openai", "model": "claude-x"}).json()

    assert len(everything) == 3
    assert [(v["effective_from"], v["input_per_mtok"]) for v in gpt] == [
        ("2026-12-01T00:00:00+08:00", "3.00000000"),
        ("2026-11-01T00:00:00+08:00", "2.50000000"),
    ]
    assert [(v["provider"], v["model"], v["editable"]) for v in anthropic] == [("anthropic", "claude-x", False)]
    assert nothing == []


def test_it_lets_only_finance_use_the_price_book(alice_client, bob_client, charlie_client, gateway_client, client):
    for other in (alice_client, bob_client, charlie_client, gateway_client):
        assert other.get(URL).status_code == 403
        assert other.post(URL, body(), format="json").status_code == 403
    assert client.post(URL, body(), content_type="application/json").status_code == 401
    assert PriceVersion.objects.count() == 0
