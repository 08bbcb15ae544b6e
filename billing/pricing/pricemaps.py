"""Price maps as CONTRACT.md "Price dimensions" writes them, parsed and validated once.

A price version holds ``prices`` (price key → decimal string, or ``{"base", "tiers":
[{"start", "price"}]}``), ``variants`` (``[{"when": {...}, "prices": {...}}]``) and
``windows`` (``[{"start": "HH:MM", "end": "HH:MM", "weekdays"?: [1..7], "prices": {...}}]``
in ``BILLING_TIME_ZONE``). Keys, units and the coverage rules are genai-prices' own
(``genai_prices.data_units`` and ``genai_prices.validation``), so a map this module accepts
is one genai-prices would price without complaint.

``price_maps_clean`` is the one validator: the API, the admin form, the services, the
genai-prices import and the price-book file import all call it. It answers the canonical
JSON (decimal strings, tiers in order) or raises ``ValidationError`` keyed by the path of
the faulty field (``prices.foo_mtok``, ``variants[1].when.speed``, ``windows[0].end``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import product
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from genai_prices.data_units import unit_data
from genai_prices.units import UnitDef, UnitRegistry
from genai_prices.validation import validate_priced_units

# Context keys a variant may name (CONTRACT.md: only these two exist on a usage record).
CONTEXT_KEYS = ("processing", "service_tier")
CONTEXT_DEFAULTS = {"processing": "standard", "service_tier": "default"}
# Values that are the default context and need no variant.
DEFAULT_VALUES = {"processing": frozenset({"standard"}), "service_tier": frozenset({"default", "standard"})}
PROCESSING_VALUES = ("standard", "batch")
SERVICE_TIER_RE = re.compile(r"^[a-z0-9_]{1,20}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# Bounds on what a request or a file may put in a price version.
MAX_PRICE_DIGITS = 30
MAX_PRICE_DECIMALS = 20
MAX_PRICE_INTEGER_DIGITS = 10  # with the decimals: the shorthand columns' numeric(30, 20)
MAX_TIERS = 20
MAX_VARIANTS = 50
MAX_WINDOWS = 48
MAX_TIER_START = 10**12
MINUTES_PER_DAY = 24 * 60


@cache
def registry() -> UnitRegistry:
    """genai-prices' unit registry (units, price keys, ``per``, ancestors)."""
    return UnitRegistry(unit_data)


@cache
def price_keys() -> tuple[str, ...]:
    """Every price key of the registry, in the registry's order (the admin's key list)."""
    return tuple(unit.price_key for unit in registry().units.values())


def unit_for_key(price_key: str) -> UnitDef:
    return registry().unit_for_price_key(price_key)


# --- Parsing --------------------------------------------------------------------------------


def _decimal(value: Any, path: str, errors: dict[str, list[str]]) -> Decimal | None:
    """A price: a decimal string (or an int / Decimal), finite, ≥ 0, with bounded digits."""
    if isinstance(value, (bool, float)):
        errors.setdefault(path, []).append(_('Write the price as a decimal string (e.g. "2.50").'))
        return None
    if isinstance(value, str):
        if len(value) > MAX_PRICE_DIGITS + 2:
            errors.setdefault(path, []).append(_("The price has too many digits."))
            return None
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            errors.setdefault(path, []).append(_("Not a decimal number."))
            return None
    elif isinstance(value, (int, Decimal)):
        number = Decimal(value)
    else:
        errors.setdefault(path, []).append(_('Write the price as a decimal string (e.g. "2.50").'))
        return None
    if not number.is_finite():
        errors.setdefault(path, []).append(_("Not a decimal number."))
        return None
    if number < 0:
        errors.setdefault(path, []).append(_("A price cannot be negative."))
        return None
    exponent = number.normalize().as_tuple().exponent
    if -int(exponent) > MAX_PRICE_DECIMALS or (number and number.adjusted() >= MAX_PRICE_INTEGER_DIGITS):
        errors.setdefault(path, []).append(
            _("At most %(whole)d digits before the point and %(decimals)d after it.")
            % {"whole": MAX_PRICE_INTEGER_DIGITS, "decimals": MAX_PRICE_DECIMALS}
        )
        return None
    return number.normalize() if number else Decimal(0)


def decimal_text(number: Decimal) -> str:
    """A price as the canonical decimal string (no exponent)."""
    return f"{number.normalize():f}"


def _price_value(value: Any, path: str, errors: dict[str, list[str]]):
    """One key's price: canonical ``"…"`` or ``{"base": "…", "tiers": [...]}``."""
    if not isinstance(value, Mapping):
        number = _decimal(value, path, errors)
        return None if number is None else decimal_text(number)
    unknown = set(value) - {"base", "tiers"}
    if unknown:
        errors.setdefault(f"{path}.{sorted(unknown)[0]}", []).append(
            _("Unknown field; a tiered price has base and tiers.")
        )
        return None
    base = _decimal(value.get("base"), f"{path}.base", errors)
    tiers = value.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        errors.setdefault(f"{path}.tiers", []).append(_("Give at least one tier, or a flat price instead."))
        return None
    if len(tiers) > MAX_TIERS:
        errors.setdefault(f"{path}.tiers", []).append(_("At most %(n)d tiers.") % {"n": MAX_TIERS})
        return None
    clean_tiers = []
    previous = None
    for index, tier in enumerate(tiers):
        tier_path = f"{path}.tiers[{index}]"
        if not isinstance(tier, Mapping) or set(tier) != {"start", "price"}:
            errors.setdefault(tier_path, []).append(_('A tier is {"start": tokens, "price": "…"}.'))
            continue
        start = tier["start"]
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= MAX_TIER_START:
            errors.setdefault(f"{tier_path}.start", []).append(_("The start is a whole number of input tokens ≥ 0."))
            continue
        if previous is not None and start <= previous:
            errors.setdefault(f"{tier_path}.start", []).append(_("Each tier must start above the previous one."))
            continue
        previous = start
        price = _decimal(tier["price"], f"{tier_path}.price", errors)
        if price is not None:
            clean_tiers.append({"start": start, "price": decimal_text(price)})
    if base is None or len(clean_tiers) != len(tiers):
        return None
    return {"base": decimal_text(base), "tiers": clean_tiers}


def _price_map(value: Any, path: str, errors: dict[str, list[str]], *, allow_empty: bool) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        errors.setdefault(path, []).append(_("A map of price keys to prices."))
        return {}
    if not value and not allow_empty:
        errors.setdefault(path, []).append(_("Name at least one price key."))
        return {}
    known = set(price_keys())
    clean: dict[str, Any] = {}
    for key, price in value.items():
        key_path = f"{path}.{key}"
        if key not in known:
            errors.setdefault(key_path, []).append(_("Unknown price key (see genai-prices' unit registry)."))
            continue
        parsed = _price_value(price, key_path, errors)
        if parsed is not None:
            clean[key] = parsed
    # Registry order: the same map always serializes (and audits) the same way.
    return {key: clean[key] for key in price_keys() if key in clean}


def _when(value: Any, path: str, errors: dict[str, list[str]]) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        errors.setdefault(path, []).append(_("Name the context: processing and/or service_tier."))
        return {}
    clean = {}
    for key, item in value.items():
        item_path = f"{path}.{key}"
        if key not in CONTEXT_KEYS:
            errors.setdefault(item_path, []).append(
                _("Unknown context key; only processing and service_tier exist on a usage record.")
            )
        elif key == "processing" and item not in PROCESSING_VALUES:
            errors.setdefault(item_path, []).append(_("processing is standard or batch."))
        elif key == "service_tier" and not (isinstance(item, str) and SERVICE_TIER_RE.match(item)):
            errors.setdefault(item_path, []).append(_("Lowercase letters, digits and _, up to 20."))
        else:
            clean[key] = item
    return {key: clean[key] for key in CONTEXT_KEYS if key in clean}


def _minutes(value: Any, path: str, errors: dict[str, list[str]]) -> int | None:
    match = HHMM_RE.match(value) if isinstance(value, str) else None
    if match is None:
        errors.setdefault(path, []).append(_("A time of day HH:MM (00:00–23:59)."))
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def window_spans(start: int, end: int, weekdays: Iterable[int] | None) -> list[tuple[int, int]]:
    """The minutes of the week (Monday 00:00 = 0) a window covers, as [from, to) spans."""
    week = 7 * MINUTES_PER_DAY
    days = sorted(set(weekdays)) if weekdays else range(1, 8)
    spans = []
    for day in days:
        first = (day - 1) * MINUTES_PER_DAY + start
        length = (end - start) % MINUTES_PER_DAY
        last = first + length
        if last <= week:
            spans.append((first, last))
        else:
            spans += [(first, week), (0, last - week)]
    return spans


def _windows(value: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.setdefault("windows", []).append(_("A list of time-of-day windows."))
        return []
    if len(value) > MAX_WINDOWS:
        errors.setdefault("windows", []).append(_("At most %(n)d windows.") % {"n": MAX_WINDOWS})
        return []
    clean = []
    taken: list[tuple[int, int, int]] = []
    for index, window in enumerate(value):
        path = f"windows[{index}]"
        if not isinstance(window, Mapping):
            errors.setdefault(path, []).append(_("A window is {start, end, weekdays?, prices}."))
            continue
        unknown = set(window) - {"start", "end", "weekdays", "prices"}
        if unknown:
            errors.setdefault(f"{path}.{sorted(unknown)[0]}", []).append(_("Unknown field."))
            continue
        start = _minutes(window.get("start"), f"{path}.start", errors)
        end = _minutes(window.get("end"), f"{path}.end", errors)
        if start is not None and start == end:
            errors.setdefault(f"{path}.end", []).append(_("The end must differ from the start."))
            start = None
        weekdays = window.get("weekdays")
        if weekdays is not None:
            if (
                not isinstance(weekdays, list)
                or not weekdays
                or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays)
                or len(set(weekdays)) != len(weekdays)
            ):
                errors.setdefault(f"{path}.weekdays", []).append(
                    _("Distinct days 1–7 (Monday = 1), the days on which the window starts.")
                )
                start = None
            else:
                weekdays = sorted(weekdays)
        prices = _price_map(window.get("prices"), f"{path}.prices", errors, allow_empty=False)
        if start is None or end is None:
            continue
        for first, last in window_spans(start, end, weekdays):
            for other_first, other_last, other in taken:
                if first < other_last and other_first < last:
                    errors.setdefault(f"{path}.start", []).append(
                        _("This window overlaps window %(n)d.") % {"n": other}
                    )
                    break
            else:
                continue
            break
        taken += [(first, last, index) for first, last in window_spans(start, end, weekdays)]
        item = {"start": window["start"], "end": window["end"]}
        if weekdays is not None:
            item["weekdays"] = weekdays
        item["prices"] = prices
        clean.append(item)
    return clean


def _variants(value: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.setdefault("variants", []).append(_("A list of variants."))
        return []
    if len(value) > MAX_VARIANTS:
        errors.setdefault("variants", []).append(_("At most %(n)d variants.") % {"n": MAX_VARIANTS})
        return []
    clean = []
    for index, variant in enumerate(value):
        path = f"variants[{index}]"
        if not isinstance(variant, Mapping):
            errors.setdefault(path, []).append(_("A variant is {when, prices}."))
            continue
        unknown = set(variant) - {"when", "prices"}
        if unknown:
            errors.setdefault(f"{path}.{sorted(unknown)[0]}", []).append(_("Unknown field."))
            continue
        when = _when(variant.get("when"), f"{path}.when", errors)
        # An empty map is meaningful: it names a context priced at the standard prices.
        prices = _price_map(variant.get("prices", {}), f"{path}.prices", errors, allow_empty=True)
        clean.append({"when": when, "prices": prices})
    return clean


# --- Resolution (money rule 2′, docs/money-rules.md: window, then variants key by key) ----------------------------


def variant_matches(when: Mapping[str, str], context: Mapping[str, str]) -> bool:
    return all(context.get(key) == value for key, value in when.items())


def resolve(
    prices: Mapping[str, Any],
    variants: list[Mapping[str, Any]],
    window: Mapping[str, Any] | None,
    context: Mapping[str, str],
) -> dict[str, Any] | None:
    """The price map of a record: ``prices``, over it the window's keys, over those the first
    matching variant per key (as genai-prices' ``ModelInfo.get_prices``). None when a
    non-default context value is named by no matching variant (money rule 2′: unpriced)."""
    matching = [variant for variant in variants if variant_matches(variant["when"], context)]
    for key, value in context.items():
        if value not in DEFAULT_VALUES.get(key, ()) and not any(v["when"].get(key) == value for v in matching):
            return None
    resolved = dict(prices)
    if window is not None:
        resolved.update(window["prices"])
    overrides: dict[str, Any] = {}
    for variant in matching:
        for key, price in variant["prices"].items():
            overrides.setdefault(key, price)
    resolved.update(overrides)
    return resolved


def contexts(variants: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Every context the variants can tell apart: the defaults and each value they name."""
    values = {key: {CONTEXT_DEFAULTS[key]} for key in CONTEXT_KEYS}
    for variant in variants:
        for key, value in variant["when"].items():
            values[key].add(value)
    ordered = [[CONTEXT_DEFAULTS[key], *sorted(values[key] - {CONTEXT_DEFAULTS[key]})] for key in CONTEXT_KEYS]
    return [dict(zip(CONTEXT_KEYS, combination, strict=True)) for combination in product(*ordered)]


def _coverage_error(keys: Iterable[str]) -> str | None:
    """genai-prices' ancestor and join coverage rules on a resolved key set."""
    try:
        validate_priced_units([unit_for_key(key) for key in keys], registry())
    except ValueError as exc:
        return str(exc)
    return None


def price_maps_clean(prices: Any, variants: Any = None, windows: Any = None) -> tuple[dict, list, list]:
    """Validate and canonicalize a version's maps; ``ValidationError`` names every bad field."""
    errors: dict[str, list[str]] = {}
    clean_prices = _price_map(prices, "prices", errors, allow_empty=False)
    clean_variants = _variants(variants, errors)
    clean_windows = _windows(windows, errors)
    if not errors:
        # Ambiguity as genai-prices validates it, on every map a record can resolve to.
        for window_index, window in [(None, None), *enumerate(clean_windows)]:
            for context in contexts(clean_variants):
                resolved = resolve(clean_prices, clean_variants, window, context)
                if resolved is None:
                    continue
                problem = _coverage_error(resolved)
                if problem is None:
                    continue
                if context == CONTEXT_DEFAULTS:
                    field = "prices" if window is None else f"windows[{window_index}].prices"
                else:
                    field = "variants"
                where = ", ".join(f"{k}={v}" for k, v in context.items())
                errors.setdefault(field, []).append(
                    _("Ambiguous price map (%(where)s): %(problem)s") % {"where": where, "problem": problem}
                )
                break
            if errors:
                break
    if errors:
        raise ValidationError(errors)
    return clean_prices, clean_variants, clean_windows


def price_base(value: Any) -> Decimal | None:
    """The shorthand of one key: its flat price, or the base of its tiers."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return Decimal(value["base"])
    return Decimal(value)
