"""import_prices [--at DATE]: list prices from the bundled genai-prices data as price versions."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import ModelAlias, PriceVersion
from billing.pricing.pricebook import DEFAULT_PROVIDERS, EPOCH
from tests.billing.helpers import ingest, price, usage

pytestmark = pytest.mark.django_db


def import_prices(*args: str) -> dict[str, int]:
    out = io.StringIO()
    call_command("import_prices", *args, stdout=out)
    text = out.getvalue()
    match = re.search(r"(\d+) created, (\d+) unchanged, (\d+) kept .*aliases: (\d+) created", text)
    assert match, text
    return dict(zip(["created", "unchanged", "kept", "aliases"], map(int, match.groups()), strict=True))


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def versions(provider: str, model: str) -> list[tuple[datetime, Decimal]]:
    return list(
        PriceVersion.objects.filter(provider=provider, model=model)
        .order_by("effective_from")
        .values_list("effective_from", "input_per_mtok")
    )


def test_it_imports_list_prices(db):
    report = import_prices("--at", "2026-11-28")

    gpt4o = PriceVersion.objects.get(provider="openai", model="gpt-4o", effective_from=EPOCH)
    assert (gpt4o.currency, gpt4o.input_per_mtok, gpt4o.cached_input_per_mtok, gpt4o.output_per_mtok) == (
        "USD",
        Decimal("2.5"),
        Decimal("1.25"),
        Decimal("10"),
    )
    assert (gpt4o.effective_from, gpt4o.source) == (EPOCH, PriceVersion.Source.IMPORT)
    assert ModelAlias.objects.get(provider="openai", alias="gpt-4o-2024-08-06").model == "gpt-4o"
    assert report["created"] == PriceVersion.objects.count() > 100
    assert set(PriceVersion.objects.values_list("provider", flat=True).distinct()) == set(DEFAULT_PROVIDERS)
    # o3's price cut of 2025-06-10 is its own version, from 00:00 UTC as genai-prices applies
    # it; its flex/priority (2026-10-12) and Batch (2026-10-14) variants start versions too.
    assert versions("openai", "o3") == [
        (EPOCH, Decimal("10")),
        (utc(2025, 6, 10), Decimal("2")),
        (utc(2026, 10, 12), Decimal("2")),
        (utc(2026, 10, 14), Decimal("2")),
    ]


def test_it_imports_nothing_twice(db):
    first = import_prices("--at", "2026-11-28")
    count = PriceVersion.objects.count()

    second = import_prices("--at", "2026-11-28")

    assert (second["created"], second["unchanged"], second["kept"], second["aliases"]) == (0, first["created"], 0, 0)
    assert PriceVersion.objects.count() == count


def test_it_imports_only_versions_in_force_at_the_given_date(db):
    import_prices("--at", "2024-01-01")

    assert versions("openai", "o3") == [(EPOCH, Decimal("10"))]

    later = import_prices("--at", "2026-12-01")

    assert later["created"] >= 2
    assert versions("openai", "o3")[:2] == [(EPOCH, Decimal("10")), (utc(2025, 6, 10), Decimal("2"))]
    assert versions("google", "gemini-4-argon") == [
        (EPOCH, Decimal("2")),
        (utc(2026, 10, 14), Decimal("2")),  # its Batch variant
        (utc(2026, 12, 1), Decimal("4")),
    ]


def test_it_includes_versions_starting_on_the_at_date(db):
    import_prices("--at", "2026-11-30")
    assert len(versions("google", "gemini-4-argon")) == 2

    import_prices("--at", "2026-12-01")
    assert len(versions("google", "gemini-4-argon")) == 3


def test_it_imports_up_to_now_by_default(db):
    import time_machine

    with time_machine.travel(datetime(2026, 11, 30, 23, 59, tzinfo=UTC), tick=False):
        import_prices()
    assert len(versions("google", "gemini-4-argon")) == 2

    with time_machine.travel(datetime(2026, 12, 1, 0, 0, tzinfo=UTC), tick=False):  # genai-prices' switch
        import_prices()
    assert len(versions("google", "gemini-4-argon")) == 3


def test_it_never_overwrites_a_price_finance_entered(db):
    manual = price(provider="openai", model="gpt-4o", effective_from=EPOCH, input="2.0", cached="1.0", output="8")

    report = import_prices("--at", "2026-11-28")

    manual.refresh_from_db()
    assert (manual.input_per_mtok, manual.cached_input_per_mtok, manual.output_per_mtok) == (
        Decimal("2.0"),
        Decimal("1.0"),
        Decimal("8"),
    )
    assert manual.source == PriceVersion.Source.API
    assert report["kept"] == 1
    assert PriceVersion.objects.filter(provider="openai", model="gpt-4o", effective_from=EPOCH).get() == manual


def test_it_never_touches_a_locked_version(db):
    locked = price(provider="openai", model="o3", effective_from=EPOCH, input="11", cached="2.75", output="44")
    locked_at = timezone.now()
    PriceVersion.objects.filter(pk=locked.pk).update(locked_at=locked_at)

    import_prices("--at", "2026-11-28")

    locked.refresh_from_db()
    assert (locked.input_per_mtok, locked.output_per_mtok, locked.locked_at) == (
        Decimal("11"),
        Decimal("44"),
        locked_at,
    )
    assert versions("openai", "o3")[:2] == [(EPOCH, Decimal("11")), (utc(2025, 6, 10), Decimal("2"))]


def test_it_imports_only_the_named_providers(db):
    import_prices("--at", "2026-11-28", "--provider", "anthropic")

    assert set(PriceVersion.objects.values_list("provider", flat=True).distinct()) == {"anthropic"}


@pytest.mark.parametrize("value", ["soon", "2026-13-01", "2026-02-30"])
def test_it_refuses_a_bad_at_date(db, value):
    with pytest.raises(CommandError):
        call_command("import_prices", "--at", value, stdout=io.StringIO())

    assert PriceVersion.objects.count() == 0


def test_it_prices_ingested_usage_with_imported_prices(acme_key):
    import_prices("--at", "2026-11-28")
    key = acme_key.key_id

    result = ingest(
        [
            usage(key, "alias", model="gpt-4o-2024-11-20"),
            usage(key, "ambiguous", model="claude-opus-4-6"),  # sold by anthropic and google
            usage(key, "named", model="claude-opus-4-6", provider="anthropic"),
        ]
    )

    assert (result.accepted, result.unpriced) == (2, 0)
    assert [(r["request_id"], list(r["errors"])) for r in result.rejected] == [("ambiguous", ["provider"])]
