"""Import provider list prices from the bundled ``genai-prices`` data (no network)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from django.db import transaction

from billing.models import ModelAlias, PriceVersion
from billing.periods import billing_tz

DEFAULT_PROVIDERS = ("openai", "anthropic", "google")
# A list price with no start date in the data has applied "since always"; it gets this date.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class ImportReport:
    created: int = 0
    unchanged: int = 0
    kept_manual: int = 0
    aliases: int = 0
    skipped_models: int = 0


def _base(value) -> Decimal | None:
    """A flat price, or the base tier of a tiered one (long-context surcharges are not modelled)."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else getattr(value, "base", None)


def _dated_prices(model_info) -> list[tuple[datetime, object]]:
    prices = model_info.prices
    if not isinstance(prices, list):
        return [(EPOCH, prices)]
    dated = []
    for conditional in prices:
        constraint = conditional.constraint
        if constraint is None:
            dated.append((EPOCH, conditional.prices))
        elif hasattr(constraint, "start_date"):
            dated.append((datetime.combine(constraint.start_date, time.min, tzinfo=billing_tz()), conditional.prices))
    return dated


def _aliases(model_info) -> set[str]:
    match = model_info.match
    clauses = getattr(match, "or_", None) or [match]
    return {c.equals for c in clauses if hasattr(c, "equals") and c.equals != model_info.id}


@transaction.atomic
def prices_import(*, at: datetime, providers: tuple[str, ...] = DEFAULT_PROVIDERS) -> ImportReport:
    from genai_prices import data_snapshot

    report = ImportReport()
    snapshot = data_snapshot.get_snapshot()
    for provider in snapshot.providers:
        if provider.id not in providers:
            continue
        for info in provider.models:
            for effective_from, prices in _dated_prices(info):
                if effective_from > at:
                    continue
                input_price, output_price = _base(prices.input_mtok), _base(prices.output_mtok)
                if input_price is None or output_price is None:
                    report.skipped_models += 1
                    continue
                cached = _base(prices.cache_read_mtok)
                existing = PriceVersion.objects.filter(
                    provider=provider.id, model=info.id, effective_from=effective_from
                ).first()
                if existing is None:
                    PriceVersion.objects.create(
                        provider=provider.id,
                        model=info.id,
                        effective_from=effective_from,
                        currency="USD",
                        input_per_mtok=input_price,
                        cached_input_per_mtok=cached,
                        output_per_mtok=output_price,
                        source=PriceVersion.Source.IMPORT,
                        note=f"genai-prices: {info.name or info.id}"[:300],
                    )
                    report.created += 1
                elif (existing.input_per_mtok, existing.cached_input_per_mtok, existing.output_per_mtok) == (
                    input_price,
                    cached,
                    output_price,
                ):
                    report.unchanged += 1
                else:
                    # Finance entered a different price for the same start, or a bill used it:
                    # never overwrite either.
                    report.kept_manual += 1
            for alias in _aliases(info):
                _obj, created = ModelAlias.objects.get_or_create(
                    provider=provider.id, alias=alias, defaults={"model": info.id}
                )
                report.aliases += int(created)
    return report
