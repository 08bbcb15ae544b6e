"""The price version admin: prices, tiers, variants and windows as rows, not a JSON box."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import PriceVersion
from billing.pricing.services import price_version_set
from tests.admin.helpers import admin_url

pytestmark = pytest.mark.django_db


def rows(name: str, *items: dict) -> dict:
    data = {f"{name}-TOTAL": str(len(items))}
    for index, item in enumerate(items):
        data.update({f"{name}-{index}-{column}": value for column, value in item.items()})
    return data


def form(**extra) -> dict:
    return {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "effective_from_0": "2026-11-01",
        "effective_from_1": "00:00:00",
        "currency": "USD",
        "note": "list price",
        **extra,
    }


SONNET_ROWS = rows(
    "price_rows",
    {"key": "input_mtok", "start": "", "price": "3"},
    {"key": "input_mtok", "start": "200000", "price": "6"},
    {"key": "cache_read_mtok", "start": "", "price": "0.3"},
    {"key": "cache_write_mtok", "start": "", "price": "3.75"},
    {"key": "cache_write_1h_mtok", "start": "", "price": "6"},
    {"key": "output_mtok", "start": "", "price": "15"},
)
BATCH_ROWS = rows(
    "variant_rows",
    {"processing": "batch", "service_tier": "", "key": "input_mtok", "start": "", "price": "1.5"},
    {"processing": "batch", "service_tier": "", "key": "output_mtok", "start": "", "price": "7.5"},
)
NIGHT_ROWS = rows(
    "window_rows",
    {"from": "22:00", "to": "02:00", "weekdays": "1-5", "key": "input_mtok", "start": "", "price": "2"},
)


def test_it_adds_a_version_from_rows(clerk_client, clerk):
    url = admin_url(PriceVersion, "add")
    page = clerk_client.get(url).content.decode()
    assert 'name="price_rows-0-key"' in page and "<textarea" not in page.split('name="note"')[0]

    response = clerk_client.post(url, form(**SONNET_ROWS, **BATCH_ROWS, **NIGHT_ROWS))

    assert response.status_code == 302, response.context["adminform"].form.errors
    version = PriceVersion.objects.get()
    assert version.prices["input_mtok"] == {"base": "3", "tiers": [{"start": 200000, "price": "6"}]}
    assert version.prices["cache_write_1h_mtok"] == "6"
    assert version.variants == [
        {"when": {"processing": "batch"}, "prices": {"input_mtok": "1.5", "output_mtok": "7.5"}}
    ]
    assert version.windows == [
        {"start": "22:00", "end": "02:00", "weekdays": [1, 2, 3, 4, 5], "prices": {"input_mtok": "2"}}
    ]
    assert (version.input_per_mtok, version.output_per_mtok, version.created_by) == (Decimal("3"), Decimal("15"), clerk)

    # The change page shows the same rows back, one per key and tier.
    page = clerk_client.get(admin_url(PriceVersion, "change", version.pk)).content.decode()
    assert 'name="price_rows-1-start" value="200000"' in page
    assert 'name="variant_rows-0-processing" value="batch"' in page
    assert 'name="window_rows-0-weekdays" value="1,2,3,4,5"' in page


@pytest.mark.parametrize(
    ("extra", "field", "text"),
    [
        (rows("price_rows", {"key": "input_mtok", "start": "", "price": "-1"}), "price_rows", "prices.input_mtok"),
        (
            {
                **SONNET_ROWS,
                **rows(
                    "variant_rows", {"processing": "", "service_tier": "Fast!", "key": "", "start": "", "price": ""}
                ),
            },
            "variant_rows",
            "variants[0].when.service_tier",
        ),
        (
            {
                **SONNET_ROWS,
                **rows(
                    "window_rows",
                    {"from": "08:00", "to": "12:00", "weekdays": "", "key": "input_mtok", "start": "", "price": "1"},
                    {"from": "11:00", "to": "13:00", "weekdays": "", "key": "input_mtok", "start": "", "price": "2"},
                ),
            },
            "window_rows",
            "windows[1].start",
        ),
        (
            rows(
                "price_rows",
                {"key": "input_mtok", "start": "", "price": "1"},
                {"key": "cache_write_1h_mtok", "start": "", "price": "2"},
            ),
            "price_rows",
            "Missing ancestor price",
        ),
    ],
)
def test_it_shows_a_bad_row_on_its_table_and_saves_nothing(clerk_client, extra, field, text):
    response = clerk_client.post(admin_url(PriceVersion, "add"), form(**extra))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert text in " ".join(errors[field]), errors
    assert not PriceVersion.objects.exists()


def test_it_shows_a_locked_version_as_read_only_tables(clerk_client):
    version, _ = price_version_set(
        provider="anthropic",
        model="claude-sonnet-4-5",
        effective_from=datetime(2026, 11, 1, tzinfo=UTC),
        currency="USD",
        prices={"input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]}, "output_mtok": "15"},
        variants=[{"when": {"service_tier": "flex"}, "prices": {"output_mtok": "7.5"}}],
    )
    PriceVersion.objects.filter(pk=version.pk).update(locked_at=timezone.now())

    page = clerk_client.get(admin_url(PriceVersion, "change", version.pk)).content.decode()

    assert 'name="price_rows-0-key"' not in page  # nothing to edit
    assert "<td>input_mtok</td><td>200000</td><td>6</td>" in page
    assert "<td>flex</td><td>output_mtok</td>" in page
    response = clerk_client.post(admin_url(PriceVersion, "change", version.pk), form())
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.variants == [{"when": {"service_tier": "flex"}, "prices": {"output_mtok": "7.5"}}]
