"""The unit prices behind a bill line (issue 20 item 7: every line can be checked).

A usage or adjustment line was priced, record by record, with money rule 2′ (docs/money-rules.md) from the price
versions it names (``BillLine.price_versions``) in the line's price context (its variant),
at the time-of-day window each record fell in. ``line_unit_prices`` lists, for each of
those versions and each of its windows (``window`` None: outside every window), the keys
that priced the line's counts — a flat decimal string, or ``{"base", "tiers"}`` as in a
price version's ``prices`` — in the price currency, with the line's exchange rate to CNY.
With them, the line's counts and its discount a customer can recompute the line (rule 5).

The API serves the list as it is; ``billing.bills.wording`` words it for the PDF and the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from billing.models import BillLine, PriceVersion
from billing.periods import billing_tz
from billing.pricing import pricemaps
from billing.pricing.cost import priced_keys, variant_context

PRICED_KINDS = (BillLine.Kind.USAGE, BillLine.Kind.ADJUSTMENT)


def line_counts(line: BillLine) -> dict[str, int]:
    """The line's counts as rule 2′ names them (cached input tokens are the cache reads)."""
    return {
        "input_tokens": line.input_tokens,
        "output_tokens": line.output_tokens,
        "cache_read_tokens": line.cached_input_tokens,
        **(line.units or {}),
    }


def versions_of(lines: Iterable[BillLine]) -> dict[int, PriceVersion]:
    """The price versions the lines name, in one query."""
    ids = {pk for line in lines for pk in (line.price_versions or [])}
    return {v.pk: v for v in PriceVersion.objects.filter(pk__in=ids)} if ids else {}


def _window(window: Mapping[str, Any]) -> dict[str, Any]:
    shape = {"start": window["start"], "end": window["end"]}
    if window.get("weekdays"):
        shape["weekdays"] = list(window["weekdays"])
    return shape


def line_unit_prices(line: BillLine, versions: Mapping[int, PriceVersion]) -> list[dict[str, Any]]:
    """``[{price_version, effective_from, currency, exchange_rate, window, prices}]``: one item
    per price version of the line and per window of that version (first the prices outside
    every window), each with the keys that priced the line's counts; [] for other lines."""
    if line.kind not in PRICED_KINDS:
        return []
    context = variant_context(line.variant)
    counts = line_counts(line)
    entries = []
    for pk in sorted(line.price_versions or []):
        version = versions.get(pk)
        if version is None:
            continue
        rate = (line.exchange_rates or {}).get(version.currency)
        for window in [None, *(version.windows or [])]:
            resolved = pricemaps.resolve(version.price_map(), version.variants or [], window, context)
            if resolved is None:  # cannot happen for a priced line; shown as nothing rather than wrong
                continue
            entries.append(
                {
                    "price_version": pk,
                    "effective_from": version.effective_from.astimezone(billing_tz()).isoformat(),
                    "currency": version.currency,
                    "exchange_rate": None if rate is None else str(rate),
                    "window": None if window is None else _window(window),
                    "prices": {key: resolved[key] for key in priced_keys(resolved, counts)},
                }
            )
    return entries
