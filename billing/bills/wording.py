"""A bill line's variant, units and unit prices in words a finance clerk reads (批量, 缓存写入
5分钟, 联网搜索 次) — for the bill PDF, the portal's bill page and the admin.

The figures come from ``billing.bills.unit_prices`` (what the API serves); this module only
words them, in the active language (the PDF is rendered in Chinese).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import pgettext, pgettext_lazy

from billing.bills.unit_prices import PRICED_KINDS, line_unit_prices, versions_of
from billing.metering.rollups import UNIT_FIELDS
from billing.models import BillLine
from billing.pricing import pricemaps
from common.admin_display import count_text

VARIANT_WORDS = {
    "standard": pgettext_lazy("price variant", "standard"),
    "batch": pgettext_lazy("price variant", "Batch"),
    "flex": pgettext_lazy("price variant", "flex"),
    "priority": pgettext_lazy("price variant", "priority"),
    "scale": pgettext_lazy("price variant", "scale tier"),
}

# The name of each count (a usage key of genai-prices' registry); a price key is named after
# the count it prices. In the order a provider's price list reads.
DIMENSION_WORDS = {
    "input_tokens": pgettext_lazy("price dimension", "input"),
    "cache_read_tokens": pgettext_lazy("price dimension", "cache reads"),
    "cache_write_tokens": pgettext_lazy("price dimension", "cache writes"),
    "cache_write_5m_tokens": pgettext_lazy("price dimension", "cache writes 5 min"),
    "cache_write_1h_tokens": pgettext_lazy("price dimension", "cache writes 1 hour"),
    "output_tokens": pgettext_lazy("price dimension", "output"),
    "input_audio_tokens": pgettext_lazy("price dimension", "audio input"),
    "cache_audio_read_tokens": pgettext_lazy("price dimension", "audio cache reads"),
    "output_audio_tokens": pgettext_lazy("price dimension", "audio output"),
    "input_image_tokens": pgettext_lazy("price dimension", "image input"),
    "output_image_tokens": pgettext_lazy("price dimension", "image output"),
    "output_reasoning_tokens": pgettext_lazy("price dimension", "reasoning output"),
    "web_searches": pgettext_lazy("price dimension", "web searches"),
    "requests": pgettext_lazy("price dimension", "requests"),
}
assert set(UNIT_FIELDS) <= DIMENSION_WORDS.keys(), "every unit a line carries has its words"

WEEKDAY_WORDS = {
    1: pgettext_lazy("weekday", "Mon"),
    2: pgettext_lazy("weekday", "Tue"),
    3: pgettext_lazy("weekday", "Wed"),
    4: pgettext_lazy("weekday", "Thu"),
    5: pgettext_lazy("weekday", "Fri"),
    6: pgettext_lazy("weekday", "Sat"),
    7: pgettext_lazy("weekday", "Sun"),
}


@dataclass
class PriceGroup:
    """The prices of one version (and window) of a line, worded."""

    heading: str  # "" when the line has one version and no windows
    prices: list[str] = field(default_factory=list)


@dataclass
class LineWords:
    line: BillLine
    variant: str  # "" for the standard variant
    units: list[str]
    price_groups: list[PriceGroup]


def variant_words(variant: str) -> str:
    """``batch+flex`` → "批量 + 弹性"; an unnamed value stays as it is."""
    return " + ".join(str(VARIANT_WORDS.get(part, part)) for part in variant.split("+"))


def _dimension(usage_key: str) -> str:
    return str(DIMENSION_WORDS.get(usage_key, usage_key))


def units_words(units: Mapping[str, int]) -> list[str]:
    """``{"cache_write_5m_tokens": 120000, "web_searches": 3}`` → ["缓存写入 5分钟 120,000 tokens",
    "联网搜索 3 次"], in UNIT_FIELDS order."""
    words = []
    for name in UNIT_FIELDS:
        count = units.get(name)
        if not count:
            continue
        values = {"name": _dimension(name), "count": count_text(count)}
        if name.endswith("_tokens"):
            words.append(pgettext("bill units", "%(name)s %(count)s tokens") % values)
        else:
            words.append(pgettext("bill units", "%(name)s: %(count)s") % values)
    return words


PER_WORDS = {
    1_000_000: pgettext_lazy("unit price", "%(items)s %(currency)s per 1M tokens"),
    1_000: pgettext_lazy("unit price", "%(items)s %(currency)s per 1,000"),
    1: pgettext_lazy("unit price", "%(items)s %(currency)s each"),
}
_ORDER = list(DIMENSION_WORDS)


def _band_text(items: list[tuple[Any, str, Any]], currency: str) -> str:
    """(unit, name, price) items as "输入 3、输出 15 USD/百万 tokens；联网搜索 10 USD/千次"."""
    by_per: dict[int, list[str]] = {}
    for unit, name, price in items:
        by_per.setdefault(unit.per, []).append(f"{name} {_decimal(price)}")
    separator = pgettext("unit price", ", ")
    return pgettext("unit price", "; ").join(
        str(PER_WORDS.get(per, PER_WORDS[1])) % {"items": separator.join(names), "currency": currency}
        for per, names in by_per.items()
    )


def price_bands(prices: Mapping[str, Any], currency: str) -> list[str]:
    """A resolved price map in words: the prices of every request, then for each tier start the
    prices that change for requests above it (a tier prices all the request's units)."""
    units = sorted(
        ((pricemaps.unit_for_key(key), value) for key, value in prices.items()),
        key=lambda item: _ORDER.index(item[0].usage_key) if item[0].usage_key in _ORDER else len(_ORDER),
    )
    base = [(unit, _dimension(unit.usage_key), v["base"] if isinstance(v, Mapping) else v) for unit, v in units]
    bands = [_band_text(base, currency)] if base else []
    starts = sorted({t["start"] for _unit, v in units if isinstance(v, Mapping) for t in v["tiers"]})
    for start in starts:
        items = []
        for unit, value in units:
            if isinstance(value, Mapping) and any(t["start"] <= start for t in value["tiers"]):
                price = [t["price"] for t in value["tiers"] if t["start"] <= start][-1]
                items.append((unit, _dimension(unit.usage_key), price))
        text = _band_text(items, currency)
        bands.append(
            pgettext("unit price", "requests above %(start)s input tokens: %(items)s")
            % {"start": count_text(start), "items": text}
        )
    return bands


def _decimal(value: Any) -> str:
    return f"{Decimal(value).normalize():f}"


def _heading(entry: Mapping[str, Any], several_versions: bool, has_windows: bool) -> str:
    parts = []
    if several_versions:
        parts.append(pgettext("unit price", "prices from %(date)s") % {"date": entry["effective_from"][:10]})
    window = entry["window"]
    if window is not None:
        days = window.get("weekdays")
        span = f"{window['start']}–{window['end']}"
        if days:
            span += " " + pgettext("unit price", ", ").join(str(WEEKDAY_WORDS[d]) for d in days)
        parts.append(span)
    elif has_windows:
        parts.append(pgettext("unit price", "other hours"))
    if entry["currency"] != "CNY" and entry["exchange_rate"] is not None:
        parts.append(pgettext("unit price", "rate %(rate)s") % {"rate": _decimal(entry["exchange_rate"])})
    return " · ".join(parts)


def line_words(line: BillLine, versions: Mapping[int, Any]) -> LineWords:
    entries = line_unit_prices(line, versions)
    several = len({e["price_version"] for e in entries}) > 1
    windowed = {e["price_version"] for e in entries if e["window"] is not None}
    groups = [
        PriceGroup(
            heading=_heading(entry, several, entry["price_version"] in windowed),
            prices=price_bands(entry["prices"], entry["currency"]),
        )
        for entry in entries
    ]
    priced = line.kind in PRICED_KINDS
    return LineWords(
        line=line,
        variant=variant_words(line.variant) if priced and line.variant != "standard" else "",
        units=units_words(line.units or {}) if priced else [],
        price_groups=groups,
    )


def bill_line_words(lines: Iterable[BillLine]) -> list[LineWords]:
    """Each line with its words; the price versions are read in one query."""
    lines = list(lines)
    versions = versions_of(lines)
    return [line_words(line, versions) for line in lines]
