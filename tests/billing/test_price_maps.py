"""Price versions with ``prices`` / ``variants`` / ``windows`` (CONTRACT.md "Price dimensions"):
the API takes and answers them with the shorthand, refuses a bad map naming the field and
writes nothing, keeps a locked version, and audits the change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import PriceVersion
from customers.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/prices/"

SONNET = {
    "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
    "cache_read_mtok": {"base": "0.3", "tiers": [{"start": 200000, "price": "0.6"}]},
    "cache_write_mtok": {"base": "3.75", "tiers": [{"start": 200000, "price": "7.5"}]},
    "cache_write_1h_mtok": {"base": "6", "tiers": [{"start": 200000, "price": "12"}]},
    "output_mtok": {"base": "15", "tiers": [{"start": 200000, "price": "22.5"}]},
    "web_searches_kcount": "10",
}
BATCH = [{"when": {"processing": "batch"}, "prices": {"input_mtok": "1.5", "output_mtok": "7.5"}}]


def body(**fields):
    data = {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "effective_from": "2026-11-01",
        "currency": "USD",
        "prices": SONNET,
        "variants": BATCH,
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_it_takes_and_answers_price_maps_with_the_shorthand(finance_client):
    response = finance_client.post(URL, body(), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["prices"] == SONNET
    assert data["variants"] == BATCH
    assert data["windows"] == []
    # The shorthand shows a tiered key's base.
    assert (data["input_per_mtok"], data["cached_input_per_mtok"], data["output_per_mtok"]) == (
        "3.00000000",
        "0.30000000",
        "15.00000000",
    )
    version = PriceVersion.objects.get()
    assert (version.input_per_mtok, version.cached_input_per_mtok, version.output_per_mtok) == (
        Decimal("3"),
        Decimal("0.3"),
        Decimal("15"),
    )


def test_it_writes_the_shorthand_into_prices(finance_client):
    response = finance_client.post(
        URL,
        {
            "provider": "openai",
            "model": "gpt-4o",
            "effective_from": "2026-11-01",
            "currency": "USD",
            "input_per_mtok": "2.50",
            "cached_input_per_mtok": "1.25",
            "output_per_mtok": "10",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["prices"] == {"input_mtok": "2.5", "cache_read_mtok": "1.25", "output_mtok": "10"}


def test_it_takes_an_input_only_model(finance_client):
    response = finance_client.post(
        URL, body(model="text-embedding-3-small", prices={"input_mtok": "0.02"}, variants=[]), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["output_per_mtok"] is None


def test_it_takes_time_of_day_windows(finance_client):
    windows = [
        {
            "start": "08:30",
            "end": "00:30",
            "prices": {"input_mtok": "0.27", "cache_read_mtok": "0.07", "output_mtok": "1.1"},
        }
    ]
    response = finance_client.post(
        URL,
        body(
            provider="deepseek",
            model="deepseek-chat",
            prices={"input_mtok": "0.135", "cache_read_mtok": "0.035", "output_mtok": "0.55"},
            variants=[],
            windows=windows,
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["windows"] == windows


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prices": {**SONNET, "input_tokens_mtok": "1"}}, "prices.input_tokens_mtok"),
        ({"prices": {"input_mtok": "-1", "output_mtok": "2"}}, "prices.input_mtok"),
        ({"prices": {"input_mtok": 2.5, "output_mtok": "2"}}, "prices.input_mtok"),
        ({"prices": {"input_mtok": "1e400", "output_mtok": "2"}}, "prices.input_mtok"),
        (
            {
                "prices": {
                    "input_mtok": {
                        "base": "1",
                        "tiers": [{"start": 200000, "price": "2"}, {"start": 200000, "price": "3"}],
                    }
                }
            },
            "prices.input_mtok.tiers[1].start",
        ),
        (
            {
                "prices": {
                    "input_mtok": {
                        "base": "1",
                        "tiers": [{"start": 200000, "price": "2"}, {"start": 100000, "price": "3"}],
                    }
                }
            },
            "prices.input_mtok.tiers[1].start",
        ),
        ({"variants": [{"when": {"speed": "fast"}, "prices": {"input_mtok": "6"}}]}, "variants[0].when.speed"),
        ({"variants": [{"when": {}, "prices": {"input_mtok": "6"}}]}, "variants[0].when"),
        ({"variants": [{"when": {"processing": "batch"}, "prices": {"x_mtok": "6"}}]}, "variants[0].prices.x_mtok"),
        ({"windows": [{"start": "08:00", "end": "08:00", "prices": {"input_mtok": "1"}}]}, "windows[0].end"),
        ({"windows": [{"start": "8:00", "end": "09:00", "prices": {"input_mtok": "1"}}]}, "windows[0].start"),
        (
            {
                "windows": [
                    {"start": "08:00", "end": "12:00", "prices": {"input_mtok": "1"}},
                    {"start": "11:00", "end": "13:00", "prices": {"input_mtok": "2"}},
                ]
            },
            "windows[1].start",
        ),
        (
            {
                "windows": [
                    {"start": "22:00", "end": "02:00", "weekdays": [1], "prices": {"input_mtok": "1"}},
                    {"start": "01:00", "end": "03:00", "weekdays": [2], "prices": {"input_mtok": "2"}},
                ]
            },
            "windows[1].start",
        ),
        ({"windows": [{"start": "08:00", "end": "09:00", "weekdays": [0], "prices": {}}]}, "windows[0].weekdays"),
        # genai-prices' ambiguity: cache reads and audio input without a price for cached audio.
        ({"prices": {"input_mtok": "1", "cache_read_mtok": "0.1", "input_audio_mtok": "5"}}, "prices"),
        # … and an ancestor missing: a 1-hour cache-write price without a cache-write price.
        ({"prices": {"input_mtok": "1", "cache_write_1h_mtok": "2"}}, "prices"),
        ({"prices": {}}, "prices"),
        ({"prices": 7}, "prices"),
        ({"prices": ["input_mtok"]}, "prices"),
        ({"variants": {"when": {}}}, "variants"),
        ({"windows": "08:00-09:00"}, "windows"),
        ({"prices": None, "variants": None}, "prices"),
        ({"prices": SONNET, "input_per_mtok": "4"}, "input_per_mtok"),
    ],
)
def test_it_answers_400_naming_the_field_and_writes_nothing(finance_client, fields, field):
    response = finance_client.post(URL, body(**fields), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not PriceVersion.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PRICE_VERSION_SET).exists()


def test_it_keeps_non_overlapping_windows_on_different_days(finance_client):
    windows = [
        {"start": "22:00", "end": "02:00", "weekdays": [1], "prices": {"input_mtok": "1"}},
        {"start": "02:00", "end": "03:00", "weekdays": [2], "prices": {"input_mtok": "2"}},
        {"start": "22:00", "end": "02:00", "weekdays": [2, 3], "prices": {"input_mtok": "3"}},
    ]
    response = finance_client.post(URL, body(prices={"input_mtok": "0.5"}, variants=[], windows=windows), format="json")

    assert response.status_code == 201, response.content
    stored = PriceVersion.objects.get()
    assert stored.windows == windows  # all three kept as sent, in order
    assert response.json()["windows"] == windows


def test_it_answers_409_to_changing_the_maps_of_a_locked_version(finance_client):
    assert finance_client.post(URL, body(), format="json").status_code == 201
    PriceVersion.objects.update(locked_at=timezone.now())

    response = finance_client.post(URL, body(variants=[]), format="json")

    assert response.status_code == 409
    assert PriceVersion.objects.get().variants == BATCH


def test_it_audits_a_change_of_the_maps(finance_client, finance_user):
    finance_client.post(URL, body(), format="json")
    finance_client.post(URL, body(variants=[]), format="json")

    event = AuditEvent.objects.filter(action=AuditEvent.Action.PRICE_VERSION_SET).order_by("pk").last()
    assert event.actor == finance_user
    assert set(event.facts["changes"]) == {"variants"}
