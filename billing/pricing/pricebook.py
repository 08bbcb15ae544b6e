"""Import provider list prices from the bundled ``genai-prices`` data (no network).

Every key, tier, variant and time-of-day price genai-prices has becomes part of a price
version (CONTRACT.md "Price dimensions"), input-only and per-request models included:

* a ``StartDateConstraint`` (of a price or of a variant) starts a new version at **00:00 UTC**
  of its date, as genai-prices applies it (``StartDateConstraint.active`` compares the UTC
  date; docs domain note row 17);
* ``TimeOfDateConstraint`` prices (DeepSeek's standard / peak hours, in UTC) become
  ``windows`` in ``BILLING_TIME_ZONE``, in genai-prices' order of precedence (last listed
  first); the unconstrained price is the version's ``prices``;
* ``price_variants`` become ``variants``, in order. Variants on a context a usage record does
  not carry (``speed``, ``route``, ``search_type``) can never apply to a record, so they are
  counted in ``skipped_variants`` and left out — the record is then priced exactly as
  genai-prices prices it with the record's context.

A version an issued bill used is never edited; one finance entered by hand is never
overwritten; importing again changes nothing (idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import ModelAlias, PriceVersion
from billing.periods import billing_tz
from billing.pricing import pricemaps

# The providers the contract's customers buy through the gateway, plus DeepSeek and the
# Chinese labs whose list prices genai-prices carries.
DEFAULT_PROVIDERS = ("openai", "anthropic", "google", "deepseek", "moonshotai", "zhipuai", "minimax")
# A list price with no start date in the data has applied "since always"; it gets this date.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_manual: int = 0
    aliases: int = 0
    skipped_models: int = 0
    skipped_variants: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Segment:
    """One price version's worth of genai-prices data: what applies from ``effective_from``."""

    effective_from: datetime
    prices: dict
    variants: list
    windows: list


def price_map_json(model_price) -> dict[str, Any]:
    """A genai-prices ``ModelPrice`` as a ``prices`` map (decimal strings, tiers)."""
    from genai_prices.types import TieredPrices

    out: dict[str, Any] = {}
    for key, value in model_price.__dict__.items():
        if key.startswith("_") or value is None:
            continue
        if isinstance(value, TieredPrices):
            out[key] = {
                "base": pricemaps.decimal_text(value.base),
                "tiers": [{"start": t.start, "price": pricemaps.decimal_text(t.price)} for t in value.tiers],
            }
        else:
            out[key] = pricemaps.decimal_text(Decimal(value))
    return out


def _local_hhmm(day: date, moment: time) -> str:
    """A genai-prices time of day (UTC) as HH:MM in BILLING_TIME_ZONE, on ``day``."""
    utc = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return datetime.combine(day, utc).astimezone(billing_tz()).strftime("%H:%M")


def _start_date(constraint) -> date | None:
    return getattr(constraint, "start_date", None)


def segments(info, report: ImportReport | None = None) -> list[Segment]:
    """The versions a genai-prices ``ModelInfo`` stands for, oldest first."""
    report = report if report is not None else ImportReport()
    conditionals = info.prices if isinstance(info.prices, list) else None
    variants = list(info.price_variants or [])
    dates = {EPOCH.date()}
    for item in [*(conditionals or []), *variants]:
        start = _start_date(item.constraint)
        if start is not None and start > EPOCH.date():
            dates.add(start)
    out: list[Segment] = []
    for day in sorted(dates):
        windows: list[dict] = []
        if conditionals is None:
            base = info.prices
        else:
            base = conditionals[0].prices  # genai-prices: when nothing is active, the first
            for conditional in reversed(conditionals):  # the last listed takes precedence
                constraint = conditional.constraint
                if constraint is None or (_start_date(constraint) is not None and _start_date(constraint) <= day):
                    base = conditional.prices
                    break
                if hasattr(constraint, "start_time"):
                    windows.append(
                        {
                            "start": _local_hhmm(day, constraint.start_time),
                            "end": _local_hhmm(day, constraint.end_time),
                            "prices": price_map_json(conditional.prices),
                        }
                    )
        prices = price_map_json(base)
        if not prices:
            # genai-prices lists a free model with no key (it prices every count at 0); a
            # version needs at least one key, and these price every token at 0 the same way.
            prices = {"input_mtok": "0", "output_mtok": "0"}
        for window in windows:
            if not set(prices) <= set(window["prices"]):
                # genai-prices replaces the whole map in a window; a window here overlays it.
                report.problems.append(f"{info.id}: window {window['start']} lacks keys of the base price")
        kept = []
        for variant in variants:
            constraint = variant.constraint
            if constraint is not None and (_start_date(constraint) is None or _start_date(constraint) > day):
                continue
            if not set(variant.when) <= set(pricemaps.CONTEXT_KEYS):
                if day == EPOCH.date() or _start_date(constraint) == day:
                    report.skipped_variants += 1
                continue
            kept.append({"when": dict(variant.when), "prices": price_map_json(variant.prices)})
        segment = Segment(
            datetime.combine(day, time.min, tzinfo=UTC) if day != EPOCH.date() else EPOCH, prices, kept, windows
        )
        if out and (out[-1].prices, out[-1].variants, out[-1].windows) == (prices, kept, windows):
            continue  # a date that changes nothing this import keeps
        out.append(segment)
    return out


def _aliases(model_info) -> set[str]:
    match = model_info.match
    clauses = getattr(match, "or_", None) or [match]
    return {c.equals for c in clauses if hasattr(c, "equals") and c.equals != model_info.id}


def _same(version: PriceVersion, prices: dict, variants: list, windows: list) -> bool:
    return (version.price_map(), version.variants or [], version.windows or []) == (prices, variants, windows)


@transaction.atomic
def prices_import(*, at: datetime, providers: tuple[str, ...] = DEFAULT_PROVIDERS) -> ImportReport:
    from genai_prices import data_snapshot

    from billing.pricing.services import price_maps_apply

    report = ImportReport()
    snapshot = data_snapshot.get_snapshot()
    existing = {
        (v.provider, v.model, v.effective_from): v
        for v in PriceVersion.objects.select_for_update().filter(provider__in=providers)
    }
    aliases = set(ModelAlias.objects.filter(provider__in=providers).values_list("provider", "alias"))
    new_versions: list[PriceVersion] = []
    new_aliases: list[ModelAlias] = []
    for provider in snapshot.providers:
        if provider.id not in providers:
            continue
        for info in provider.models:
            for segment in segments(info, report):
                if segment.effective_from > at:
                    continue
                try:
                    prices, variants, windows = pricemaps.price_maps_clean(
                        segment.prices, segment.variants, segment.windows
                    )
                except ValidationError as exc:
                    report.skipped_models += 1
                    report.problems.append(f"{provider.id}/{info.id}: {exc.message_dict}")
                    continue
                version = existing.get((provider.id, info.id, segment.effective_from))
                if version is None:
                    version = PriceVersion(
                        provider=provider.id,
                        model=info.id,
                        effective_from=segment.effective_from,
                        currency="USD",
                        source=PriceVersion.Source.IMPORT,
                        note=f"genai-prices: {info.name or info.id}"[:300],
                    )
                    price_maps_apply(version, prices, variants, windows)
                    new_versions.append(version)
                    report.created += 1
                elif _same(version, prices, variants, windows):
                    report.unchanged += 1
                elif version.locked_at is None and version.source == PriceVersion.Source.IMPORT:
                    # An earlier import of fewer dimensions (the old three-price import):
                    # complete it, unless a bill used it.
                    price_maps_apply(version, prices, variants, windows)
                    version.save()
                    report.updated += 1
                else:
                    # Finance entered a different price for the same start, or a bill used it:
                    # never overwrite either.
                    report.kept_manual += 1
            for alias in sorted(_aliases(info)):
                if (provider.id, alias) not in aliases:
                    aliases.add((provider.id, alias))
                    new_aliases.append(ModelAlias(provider=provider.id, alias=alias, model=info.id))
    PriceVersion.objects.bulk_create(new_versions, batch_size=500)
    ModelAlias.objects.bulk_create(new_aliases, batch_size=500)
    report.aliases = len(new_aliases)
    return report
