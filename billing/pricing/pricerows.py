"""A price version's maps as rows and back: one row per key (and per tier), variants and
windows as rows carrying their context or their hours. The admin form and the finance
price-book file (CSV/XLSX) both speak these rows; ``price_maps_clean`` validates the result.

Row columns: ``key``, ``start`` (tier: the input tokens it starts above; blank = the base or
flat price), ``price``; a variant row adds ``processing`` and ``service_tier``; a window row
adds ``from``, ``to`` (HH:MM) and ``weekdays`` (``1-5`` or ``1,3,5``; blank = every day).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def map_rows(prices: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in prices.items():
        if isinstance(value, dict):
            rows.append({"key": key, "start": "", "price": value["base"]})
            rows += [{"key": key, "start": str(t["start"]), "price": t["price"]} for t in value["tiers"]]
        else:
            rows.append({"key": key, "start": "", "price": value})
    return rows


def rows_map(rows: list[dict[str, str]], where: str, errors: list[str]) -> dict[str, Any]:
    """Rows (key, start, price) as a price map; a key's row without a start is its base."""
    bases: dict[str, str] = {}
    tiers: dict[str, list[dict]] = {}
    for row in rows:
        key, start, price = row.get("key", ""), row.get("start", ""), row.get("price", "")
        if not key:
            errors.append(_("%(where)s: a row without a price key.") % {"where": where})
            continue
        if not start:
            if key in bases:
                errors.append(_("%(where)s: %(key)s has two rows without a tier start.") % {"where": where, "key": key})
            bases[key] = price
            continue
        try:
            tier_start = int(start)
        except ValueError:
            errors.append(_("%(where)s.%(key)s: the tier start is a whole number.") % {"where": where, "key": key})
            continue
        tiers.setdefault(key, []).append({"start": tier_start, "price": price})
    out: dict[str, Any] = {}
    for key in dict.fromkeys([*bases, *tiers]):
        if key in tiers:
            if key not in bases:
                errors.append(
                    _("%(where)s.%(key)s: add a row without a start for the base price.") % {"where": where, "key": key}
                )
                continue
            out[key] = {"base": bases[key], "tiers": tiers[key]}
        else:
            out[key] = bases[key]
    return out


def variant_rows(variants: list[dict]) -> list[dict[str, str]]:
    rows = []
    for variant in variants:
        when = {
            "processing": variant["when"].get("processing", ""),
            "service_tier": variant["when"].get("service_tier", ""),
        }
        prices = map_rows(variant["prices"]) or [{"key": "", "start": "", "price": ""}]
        rows += [{**when, **row} for row in prices]
    return rows


def rows_variants(rows: list[dict[str, str]], errors: list[str]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row.get("processing", ""), row.get("service_tier", "")), []).append(row)
    variants = []
    for index, ((processing, service_tier), group) in enumerate(groups.items()):
        when = {key: value for key, value in (("processing", processing), ("service_tier", service_tier)) if value}
        priced = [row for row in group if row.get("key") or row.get("price") or row.get("start")]
        variants.append({"when": when, "prices": rows_map(priced, f"variants[{index}].prices", errors)})
    return variants


def _weekdays_text(weekdays: list[int] | None) -> str:
    return ",".join(map(str, weekdays or []))


def _weekdays(text: str, where: str, errors: list[str]) -> list[int] | None:
    if not text:
        return None
    days: list[int] = []
    try:
        for part in text.replace(" ", "").split(","):
            first, _sep, last = part.partition("-")
            days += list(range(int(first), int(last or first) + 1))
    except ValueError:
        errors.append(_("%(where)s.weekdays: write days 1–7 like 1-5 or 1,3,5.") % {"where": where})
        return None
    return days


def window_rows(windows: list[dict]) -> list[dict[str, str]]:
    rows = []
    for window in windows:
        head = {"from": window["start"], "to": window["end"], "weekdays": _weekdays_text(window.get("weekdays"))}
        rows += [{**head, **row} for row in map_rows(window["prices"])]
    return rows


def rows_windows(rows: list[dict[str, str]], errors: list[str]) -> list[dict]:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row.get("from", ""), row.get("to", ""), row.get("weekdays", "")), []).append(row)
    windows = []
    for index, ((start, end, weekdays), group) in enumerate(groups.items()):
        where = f"windows[{index}]"
        window: dict[str, Any] = {"start": start, "end": end}
        days = _weekdays(weekdays, where, errors)
        if days is not None:
            window["weekdays"] = days
        window["prices"] = rows_map(group, f"{where}.prices", errors)
        windows.append(window)
    return windows
