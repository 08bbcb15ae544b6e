"""The money rules, written once (CONTRACT.md "Money rules" and "Price dimensions").

* rule 2′, ``price_plan(version).cost(counts, occurred_at, processing, service_tier)``: the
  cost of one usage record in the price currency, unrounded (None: unpriced);
* rule 2, ``record_cost``: the three-count special case (input, cached, output) at the flat
  shorthand prices, kept for estimates and what-ifs with fractional counts;
* rule 5, ``line_amount``: Σ cost × (1 − discount/100) × rate, rounded half up to the fen
  once (``cny_unrounded`` is the same product before the rounding, for daily series);
* rule 8, ``vat_amount`` and ``bill_totals``.

The bill, the usage summary, budgets, the allowance, insights, forecasting and presales
estimates all call these, so a customer who compares any two of them sees one number.

Every product is taken at ``EXACT_PRECISION`` digits: enough for Σ cost (38 digits) ×
discount factor (5) × rate (14) to be exact, so the one rounding is ``quantize_money``'s.
Python's default context (28 digits) would round the product once before that, and a line
could then differ from the same usage summed elsewhere by a fen.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, getcontext, localcontext
from typing import Any, Protocol

from billing.periods import billing_tz
from billing.pricing import pricemaps
from billing.pricing.money import quantize_money

EXACT_PRECISION = 80
MILLION = Decimal(1_000_000)
HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Price(Protocol):
    """What rule 2 needs of a price version."""

    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    output_per_mtok: Decimal


def exact_context():
    """The decimal context every money product is taken in (see the module docstring)."""
    return localcontext(prec=EXACT_PRECISION)


def record_cost_in_context(
    price: Price, input_tokens: int | Decimal, cached: int | Decimal, output: int | Decimal
) -> Decimal | None:
    """``record_cost`` for a caller already inside ``exact_context()`` (a batch sets it once)."""
    input_price, output_price = price.input_per_mtok, price.output_per_mtok
    cached_price = input_price if price.cached_input_per_mtok is None else price.cached_input_per_mtok
    if input_price is None or output_price is None or cached_price is None:
        # An input-only or per-request version: a count it has no price for → unpriced.
        terms = ((input_tokens - cached, input_price), (cached, cached_price), (output, output_price))
        if any(count and unit_price is None for count, unit_price in terms):
            return None
        return sum((Decimal(count) * unit_price for count, unit_price in terms if count), ZERO) / MILLION
    return (
        Decimal(input_tokens - cached) * input_price + Decimal(cached) * cached_price + Decimal(output) * output_price
    ) / MILLION


def record_cost(
    price: Price, input_tokens: int | Decimal, cached: int | Decimal, output: int | Decimal
) -> Decimal | None:
    """Money rule 2, in the price currency, unrounded: ``((input − cached) × input price +
    cached × cached price + output × output price) / 10^6``; the cached price defaults to the
    input price. Token counts may be fractional (estimates, what-ifs). It is rule 2′ for a
    record of these three counts at flat prices (``PricePlan.cost`` gives the same figure);
    None when the version has no price for a non-zero count (an input-only model's output)."""
    with exact_context():
        return record_cost_in_context(price, input_tokens, cached, output)


# --- Money rule 2′ ----------------------------------------------------------------------------

# The counts a usage record carries (CONTRACT.md "Price dimensions"), named as genai-prices'
# usage keys. ``input_tokens`` and ``output_tokens`` are the totals; the others are parts.
COUNT_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "cache_audio_read_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "output_image_tokens",
    "output_reasoning_tokens",
    "web_searches",
)
CONTEXT_DEFAULTS = dict(pricemaps.CONTEXT_DEFAULTS)
_REQUESTS = "requests"


def variant_name(processing: str, service_tier: str) -> str:
    """A record's variant (CONTRACT.md "Bills and summaries"): ``standard``, or the non-default
    context values joined by ``+`` in the order processing, service tier (``batch+flex``)."""
    parts = [
        value
        for key, value in (("processing", processing), ("service_tier", service_tier))
        if value and value not in pricemaps.DEFAULT_VALUES[key]
    ]
    return "+".join(parts) or "standard"


def variant_context(variant: str) -> dict[str, str]:
    """The price context a variant name stands for (the inverse of ``variant_name``)."""
    parts = [] if variant == "standard" else variant.split("+")
    processing = parts.pop(0) if parts and parts[0] in pricemaps.PROCESSING_VALUES else "standard"
    return {"processing": processing, "service_tier": parts[0] if parts else "default"}


def priced_keys(resolved: Mapping[str, Any], counts: Mapping[str, int]) -> list[str]:
    """The keys of a resolved price map that price ``counts`` by rule 2′: for each non-zero
    leaf, the most specific key on its unit's chain, and the per-request fee; in the map's order."""
    reg_units = pricemaps.registry().units
    priced = [pricemaps.unit_for_key(key) for key in resolved if key != "requests_kcount"]
    forms = _count_leaves()
    used = {"requests_kcount"} & set(resolved)
    for field, form in forms.items():
        if sum(counts.get(key, 0) * c for key, c in form.items()) > 0:
            dims = reg_units[field].dimensions.items()
            chain = [unit for unit in priced if unit.dimensions.items() <= dims]
            if chain:
                used.add(max(chain, key=lambda unit: len(unit.dimensions)).price_key)
    return [key for key in resolved if key in used]


def _leaf_forms(units) -> dict[str, dict[str, int]]:
    """genai-prices' decomposition (``decompose.compute_leaf_values``) written symbolically: each
    unit's leaf as integer coefficients over the usage keys (a count minus its parts' leaves)."""
    ordered = sorted(units, key=lambda unit: (-len(unit.dimensions), unit.usage_key))
    forms: dict[str, dict[str, int]] = {}
    for unit in ordered:
        form = {unit.usage_key: 1}
        for other in ordered:
            if other is not unit and unit.dimensions.items() <= other.dimensions.items():
                for key, coefficient in forms[other.usage_key].items():
                    form[key] = form.get(key, 0) - coefficient
        forms[unit.usage_key] = {key: c for key, c in form.items() if c}
    return forms


def _count_units():
    reg = pricemaps.registry()
    return [reg.units[field] for field in COUNT_FIELDS]


_COUNT_LEAVES = None


def _count_leaves() -> dict[str, dict[str, int]]:
    """``_leaf_forms`` of the record's counts, computed once."""
    global _COUNT_LEAVES
    if _COUNT_LEAVES is None:
        _COUNT_LEAVES = _leaf_forms(_count_units())
    return _COUNT_LEAVES


def count_errors(counts: Mapping[str, int]) -> dict[str, str]:
    """Parts larger than their whole, as genai-prices' decomposition finds them (a negative
    leaf), keyed by the part to name; {} when the counts decompose. Ingestion validates with it,
    so ``PricePlan.cost`` never sees counts it cannot split."""
    errors = {}
    for whole, form in _count_leaves().items():
        if sum(counts.get(key, 0) * c for key, c in form.items()) < 0:
            parts = [key for key, c in form.items() if key != whole and counts.get(key, 0)]
            part = next((key for key in parts if counts.get(key, 0) > counts.get(whole, 0)), parts[0])
            errors[part] = f"{' + '.join(parts)} exceed {whole} ({counts.get(whole, 0)})"
    return errors


@dataclass(frozen=True)
class _Band:
    """The prices of one resolved map for input_tokens in one tier band, folded into one
    weight per count (Σ leaf × price ÷ per = Σ count × weight) and a per-record fee."""

    weights: dict[str, Decimal]
    fee: Decimal


@dataclass(frozen=True)
class _Rates:
    starts: tuple[int, ...]  # the tier starts of every key, sorted; band i: i starts below input
    bands: tuple[_Band, ...]
    guard_fields: frozenset[str]  # counts that may leave a leaf no key prices
    guards: tuple[dict[str, int], ...]  # those leaves: each must be 0, else unpriced


_UNPRICED = object()


def _tier_price(value: Any, below: int | None) -> Decimal:
    """A key's price when ``below`` is the highest tier start under the record's input."""
    if not isinstance(value, Mapping):
        return Decimal(value)
    price = Decimal(value["base"])
    if below is not None:
        for tier in value["tiers"]:
            if tier["start"] <= below:
                price = Decimal(tier["price"])
    return price


def _compile(resolved: Mapping[str, Any]) -> _Rates:
    priced = {pricemaps.unit_for_key(key).usage_key: value for key, value in resolved.items()}
    reg_units = pricemaps.registry().units
    token_units = [reg_units[key] for key in priced if key != _REQUESTS]
    units = {unit.usage_key: unit for unit in [*_count_units(), *token_units]}
    forms = _leaf_forms(units.values())
    starts = sorted(
        {tier["start"] for value in resolved.values() if isinstance(value, Mapping) for tier in value["tiers"]}
    )
    owner: dict[str, Any] = {}
    guards = []
    for key, unit in units.items():
        chain = [p for p in token_units if p.dimensions.items() <= unit.dimensions.items()]
        if chain:
            owner[key] = max(chain, key=lambda p: len(p.dimensions))
        elif any(field in COUNT_FIELDS for field in forms[key]):
            guards.append({f: c for f, c in forms[key].items() if f in COUNT_FIELDS})
    bands = []
    with exact_context():
        for band in range(len(starts) + 1):
            below = starts[band - 1] if band else None
            weights = dict.fromkeys(COUNT_FIELDS, ZERO)
            for key, unit in owner.items():
                rate = _tier_price(priced[unit.usage_key], below) / unit.per
                for field, coefficient in forms[key].items():
                    if field in weights:
                        weights[field] += coefficient * rate
            fee = ZERO
            if _REQUESTS in priced:
                fee = _tier_price(priced[_REQUESTS], below) / reg_units[_REQUESTS].per
            bands.append(_Band(weights=weights, fee=fee))
    guard_fields = frozenset(field for guard in guards for field in guard)
    return _Rates(starts=tuple(starts), bands=tuple(bands), guard_fields=guard_fields, guards=tuple(guards))


class PricePlan:
    """A price version compiled for money rule 2′ (one per version; see ``price_plan``).

    Each (window, processing, service_tier) a record can meet resolves to one price map, and
    each map compiles once into a weight per count per tier band, so a record costs a dict
    walk: Σ count × weight (+ the per-record fee), exact and unrounded.

    Speed (timeit, min of 9 × 100,000 calls, a three-count record at flat prices, inside
    exact_context, on this shared 2-core machine): ``record_cost_in_context`` as of b5231b9
    1.09–2.09 µs, ``PricePlan.cost`` 1.14–2.72 µs — 1.05–1.3× in the same run (target ≤ 1.5×).
    """

    def __init__(self, prices: Mapping[str, Any], variants: list, windows: list):
        self.prices = prices
        self.variants = variants
        self.windows = [
            (
                int(w["start"][:2]) * 3600 + int(w["start"][3:]) * 60,
                int(w["end"][:2]) * 3600 + int(w["end"][3:]) * 60,
                frozenset(w.get("weekdays") or range(1, 8)),
                w,
            )
            for w in windows
        ]
        self._rates: dict[tuple, Any] = {}

    def window_at(self, occurred_at: datetime) -> int | None:
        """The index of the first window active at ``occurred_at`` (in BILLING_TIME_ZONE)."""
        local = occurred_at.astimezone(billing_tz())
        second = local.hour * 3600 + local.minute * 60 + local.second
        day = local.isoweekday()
        for index, (start, end, weekdays, _w) in enumerate(self.windows):
            if start < end:
                if start <= second < end and day in weekdays:
                    return index
            elif (second >= start and day in weekdays) or (second < end and (day - 2) % 7 + 1 in weekdays):
                return index
        return None

    def _resolve(self, key: tuple) -> Any:
        window, processing, service_tier = key
        resolved = pricemaps.resolve(
            self.prices,
            self.variants,
            None if window is None else self.windows[window][3],
            {"processing": processing, "service_tier": service_tier},
        )
        rates = _UNPRICED if resolved is None else _compile(resolved)
        self._rates[key] = rates
        return rates

    def cost(
        self,
        counts: Mapping[str, int],
        occurred_at: datetime,
        processing: str = "standard",
        service_tier: str = "default",
    ) -> Decimal | None:
        """Money rule 2′: the record's cost in the version's currency, exact and unrounded; None
        when unpriced (a non-default context no variant names, or a non-zero leaf no key
        prices). Counts missing from ``counts`` are 0. Batch callers call it inside
        ``exact_context()``; a lone call sets the context itself."""
        if getcontext().prec < EXACT_PRECISION:
            with exact_context():
                return self.cost(counts, occurred_at, processing, service_tier)
        key = (self.window_at(occurred_at) if self.windows else None, processing, service_tier)
        rates = self._rates.get(key)
        if rates is None:
            rates = self._resolve(key)
        if rates is _UNPRICED:
            return None
        for field in rates.guard_fields:
            if counts.get(field):
                for guard in rates.guards:
                    if sum(counts.get(f, 0) * c for f, c in guard.items()):
                        return None
                break
        bands = rates.bands
        band = bands[bisect.bisect_left(rates.starts, counts.get("input_tokens", 0))] if len(bands) > 1 else bands[0]
        weights = band.weights
        total = band.fee
        for field, count in counts.items():
            if count:
                total += count * weights[field]
        return total


_PLANS: dict[tuple, PricePlan] = {}


def price_plan(version) -> PricePlan:
    """The compiled plan of a ``PriceVersion``, cached by its id and last update."""
    key = (version.pk, getattr(version, "updated_at", None))
    plan = _PLANS.get(key) if version.pk is not None else None
    if plan is None:
        plan = PricePlan(version.price_map(), version.variants or [], version.windows or [])
        if version.pk is not None:
            if len(_PLANS) > 20_000:
                _PLANS.clear()
            _PLANS[key] = plan
    return plan


def discount_factor(discount_percent: Decimal) -> Decimal:
    """1 − discount/100, exact."""
    with exact_context():
        return (HUNDRED - discount_percent) / HUNDRED


def cny_unrounded(costs: Mapping[str, Decimal], *, discount_percent: Decimal, rates: Mapping[str, Decimal]) -> Decimal:
    """Σ cost × (1 − discount/100) × rate over the currencies of ``costs``, before rounding.

    ``rates`` maps each currency of ``costs`` to its rate to CNY (money rule 4; 1 for CNY)."""
    factor = discount_factor(discount_percent)
    total = ZERO
    with exact_context():
        for currency, cost in sorted(costs.items()):
            total += cost * factor * rates[currency]
    return total


def line_amount(costs: Mapping[str, Decimal], *, discount_percent: Decimal, rates: Mapping[str, Decimal]) -> Decimal:
    """Money rule 5: the CNY amount of a usage line, rounded half up to the fen once."""
    return quantize_money(cny_unrounded(costs, discount_percent=discount_percent, rates=rates))


def vat_amount(amount: Decimal, vat_rate: Decimal) -> Decimal:
    """Money rule 8's VAT of an amount before VAT: ``round_half_up(amount × vat_rate, 2)``."""
    with exact_context():
        return quantize_money(amount * vat_rate)


def bill_totals(amounts: Iterable[Decimal], vat_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Money rule 8: ``(subtotal, vat, total)`` of a bill's line amounts."""
    with exact_context():
        subtotal = sum(amounts, ZERO)
    vat = vat_amount(subtotal, vat_rate)
    return subtotal, vat, subtotal + vat
