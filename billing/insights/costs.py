"""Cost insights for one customer and month, from its real rollups and the price book only.

Every figure is a re-pricing of tokens the customer actually used; nothing is estimated
from outside data. Amounts are CNY, computed as a bill line would be (money rule 5, docs/money-rules.md): the
cost in the price currency × (1 − contract discount) × the rate, rounded half up to 0.01
once per model. The rate is the latest entered up to the month (money rule 4, open
periods); a missing rate leaves the affected amounts ``null`` and is listed.

What-ifs (alternatives, caching, batch) use the priced usage only: unpriced records have
no actual cost to compare with.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from billing.models import PriceVersion, UsageRollup
from billing.periods import format_period, next_period, period_start
from billing.pricing.cost import ZERO, discount_factor, exact_context, line_amount, record_cost
from billing.pricing.money import quantize_money
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from customers.models import Customer

HUNDRED = Decimal("100")
TREND_MONTHS = 6
ALTERNATIVES_PER_MODEL = 3
CACHE_HIT_RATES = (25, 50, 75)
DEFAULT_BATCH_DISCOUNT_PERCENT = Decimal("50")
# Providers whose published batch tier is the discount above; others get no batch what-if.
BATCH_PROVIDERS = ("anthropic", "google", "openai")
BATCH_SOURCE = (
    "Published batch pricing, 50 % off standard input and output prices for asynchronous jobs "
    "completed within 24 hours: OpenAI Batch API (platform.openai.com/docs/guides/batch), "
    "Anthropic Message Batches API (docs.anthropic.com/en/docs/build-with-claude/batch-processing), "
    "Google Gemini Batch Mode (ai.google.dev/gemini-api/docs/batch-mode)."
)


def _money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{quantize_money(value) + ZERO:.2f}"  # + ZERO turns -0.00 into 0.00


def _percent(part: Decimal | None, whole: Decimal | None) -> str | None:
    if part is None or not whole:
        return None
    return f"{quantize_money(part * HUNDRED / whole) + ZERO:.2f}"


@dataclass
class _Slice:
    """Priced usage of one model at one price version in one month."""

    version: PriceVersion
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    cost: Decimal


@dataclass
class _ModelMonth:
    provider: str
    model: str
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    unpriced_requests: int = 0
    slices: list[_Slice] = field(default_factory=list)

    def priced_tokens(self) -> tuple[int, int, int]:
        return (
            sum(s.input_tokens for s in self.slices),
            sum(s.cached_input_tokens for s in self.slices),
            sum(s.output_tokens for s in self.slices),
        )


class _Pricing:
    """Discount and rates of each month for one customer; converts price-currency costs to CNY."""

    def __init__(self, customer: Customer):
        self.customer = customer
        self._factors: dict[date, Decimal] = {}
        self._contracts: dict[date, object] = {}
        self._rates: dict[tuple[str, date], Decimal | None] = {}
        self.missing: set[str] = set()

    def discount(self, period: date) -> Decimal:
        contract = self._contract(period)
        return contract.discount_percent if contract else ZERO

    def _contract(self, period: date):
        if period not in self._contracts:
            self._contracts[period] = contract_for_period(self.customer, period)
        return self._contracts[period]

    def rate(self, currency: str, period: date) -> Decimal | None:
        key = (currency, period)
        if key not in self._rates:
            self._rates[key] = exchange_rate_for(currency, period, contract=self._contract(period), exact=False)
            if self._rates[key] is None:
                self.missing.add(f"{currency} {format_period(period)}")
        return self._rates[key]

    def cny(self, costs: dict[str, Decimal], period: date) -> Decimal | None:
        """Money rule 5: Σ cost × (1 − discount) × rate, rounded once; None when a rate is missing."""
        rates = {currency: self.rate(currency, period) for currency in costs}
        if any(rate is None for rate in rates.values()):
            return None
        return line_amount(costs, discount_percent=self.discount(period), rates=rates)


def _usage_by_month(customer: Customer, first: date, last: date) -> dict[date, dict[tuple[str, str], _ModelMonth]]:
    rows = (
        UsageRollup.objects.filter(customer=customer, period__gte=first, period__lte=last)
        .values("period", "provider", "model", "price_version_id")
        .annotate(
            r=Sum("requests"),
            i=Sum("input_tokens"),
            c=Sum("cached_input_tokens"),
            o=Sum("output_tokens"),
            cost=Sum("cost"),
        )
        .order_by("period", "provider", "model", "price_version_id")
    )
    rows = list(rows)
    versions = PriceVersion.objects.in_bulk({r["price_version_id"] for r in rows if r["price_version_id"]})
    months: dict[date, dict[tuple[str, str], _ModelMonth]] = defaultdict(dict)
    for row in rows:
        key = (row["provider"], row["model"])
        usage = months[row["period"]].setdefault(key, _ModelMonth(*key))
        usage.requests += row["r"]
        usage.input_tokens += row["i"]
        usage.cached_input_tokens += row["c"]
        usage.output_tokens += row["o"]
        if row["price_version_id"] is None:
            usage.unpriced_requests += row["r"]
        else:
            usage.slices.append(_Slice(versions[row["price_version_id"]], row["i"], row["c"], row["o"], row["cost"]))
    return months


def _actual_costs(usage: _ModelMonth) -> dict[str, Decimal]:
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for s in usage.slices:
        costs[s.version.currency] += s.cost
    return costs


def _latest_versions(providers: set[str], before: date) -> dict[str, list[PriceVersion]]:
    """Per provider: each model's latest price version in force at the end of the month."""
    end = period_start(next_period(before))
    versions = (
        PriceVersion.objects.filter(provider__in=providers, effective_from__lt=end)
        .order_by("provider", "model", "-effective_from")
        .distinct("provider", "model")
    )
    result: dict[str, list[PriceVersion]] = defaultdict(list)
    for version in versions:
        result[version.provider].append(version)
    return result


def _alternatives(usage: _ModelMonth, actual: Decimal, catalogue: list[PriceVersion], pricing: _Pricing, period: date):
    input_tokens, cached, output = (Decimal(n) for n in usage.priced_tokens())
    found = []
    for version in catalogue:
        if version.model == usage.model:
            continue
        unrounded = record_cost(version, input_tokens, cached, output)
        if unrounded is None:
            continue  # the model has no price for some of these tokens (input-only, per request)
        cost = pricing.cny({version.currency: unrounded}, period)
        if cost is None or cost >= actual:
            continue
        found.append(
            {
                "provider": version.provider,
                "model": version.model,
                "price_effective_from": version.effective_from.isoformat(),
                "price_currency": version.currency,
                "input_per_mtok": str(version.input_per_mtok),
                "cached_input_per_mtok": str(version.effective_cached_input_per_mtok),
                "output_per_mtok": str(version.output_per_mtok),
                "cost": _money(cost),
                "saving": _money(actual - cost),
                "saving_percent": _percent(actual - cost, actual),
                "_saving": actual - cost,
            }
        )
    found.sort(key=lambda a: (-a["_saving"], a["model"]))
    for item in found:
        del item["_saving"]
    return found[:ALTERNATIVES_PER_MODEL]


def _cached_cost(usage: _ModelMonth, hit_rate: int, pricing: _Pricing, period: date) -> Decimal | None:
    """The same tokens with at least ``hit_rate`` % of each price version's input read from cache."""
    share = Decimal(hit_rate) / HUNDRED
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for s in usage.slices:
        cached = max(Decimal(s.cached_input_tokens), Decimal(s.input_tokens) * share)
        cost = record_cost(s.version, Decimal(s.input_tokens), cached, Decimal(s.output_tokens))
        if cost is None:
            return None
        costs[s.version.currency] += cost
    return pricing.cny(costs, period)


def _batch_cost(usage: _ModelMonth, discount_percent: Decimal, pricing: _Pricing, period: date) -> Decimal | None:
    factor = discount_factor(discount_percent) if usage.provider in BATCH_PROVIDERS else Decimal(1)
    with exact_context():
        costs = {c: cost * factor for c, cost in _actual_costs(usage).items()}
    return pricing.cny(costs, period)


def _sum(values) -> Decimal | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values, ZERO)


def cost_insights(
    *, customer: Customer, period: date, batch_discount_percent: Decimal = DEFAULT_BATCH_DISCOUNT_PERCENT
) -> dict:
    """Model mix, 6-month trend, cheaper same-provider models, caching and batch what-ifs."""
    first = next_period(period, -(TREND_MONTHS - 1))
    months = _usage_by_month(customer, first, period)
    pricing = _Pricing(customer)
    current = sorted(months.get(period, {}).values(), key=lambda u: (u.provider, u.model))
    actual = {(u.provider, u.model): pricing.cny(_actual_costs(u), period) for u in current}
    total = _sum(actual.values())

    mix = [
        {
            "provider": u.provider,
            "model": u.model,
            "requests": u.requests,
            "input_tokens": u.input_tokens,
            "cached_input_tokens": u.cached_input_tokens,
            "output_tokens": u.output_tokens,
            "unpriced_requests": u.unpriced_requests,
            "cost": _money(actual[(u.provider, u.model)]),
            "share_percent": _percent(actual[(u.provider, u.model)], total),
        }
        for u in current
    ]
    mix.sort(key=lambda m: -(Decimal(m["cost"]) if m["cost"] is not None else Decimal(-1)))

    trend_periods = [next_period(first, i) for i in range(TREND_MONTHS)]
    trend_models = sorted({key for p in trend_periods for key in months.get(p, {})})
    trend_costs = {
        key: [
            pricing.cny(_actual_costs(months[p][key]), p) if key in months.get(p, {}) else ZERO for p in trend_periods
        ]
        for key in trend_models
    }
    trend = {
        "periods": [format_period(p) for p in trend_periods],
        "models": [
            {"provider": key[0], "model": key[1], "costs": [_money(c) for c in trend_costs[key]]}
            for key in trend_models
        ],
        "totals": [_money(_sum(trend_costs[key][i] for key in trend_models)) for i in range(TREND_MONTHS)],
    }

    catalogue = _latest_versions({u.provider for u in current if u.slices}, period)
    alternatives = []
    caching_models = []
    batch_models = []
    for u in current:
        cost = actual[(u.provider, u.model)]
        if not u.slices or cost is None:
            continue
        alternatives.append(
            {
                "provider": u.provider,
                "model": u.model,
                "cost": _money(cost),
                "alternatives": _alternatives(u, cost, catalogue.get(u.provider, []), pricing, period),
            }
        )
        input_tokens, cached, _output = u.priced_tokens()
        scenarios = []
        for rate in CACHE_HIT_RATES:
            what_if = _cached_cost(u, rate, pricing, period)
            scenarios.append(
                {
                    "hit_rate_percent": rate,
                    "cost": _money(what_if),
                    "saving": _money(None if what_if is None else cost - what_if),
                }
            )
        caching_models.append(
            {
                "provider": u.provider,
                "model": u.model,
                "cost": _money(cost),
                "current_hit_rate_percent": _percent(Decimal(cached), Decimal(input_tokens)),
                "scenarios": scenarios,
            }
        )
        what_if = _batch_cost(u, batch_discount_percent, pricing, period)
        batch_models.append(
            {
                "provider": u.provider,
                "model": u.model,
                "batch_discount_published": u.provider in BATCH_PROVIDERS,
                "cost": _money(cost),
                "batch_cost": _money(what_if),
                "saving": _money(None if what_if is None else cost - what_if),
            }
        )

    priced_total = _sum(Decimal(m["cost"]) if m["cost"] is not None else None for m in caching_models)
    caching_totals = []
    for index, rate in enumerate(CACHE_HIT_RATES):
        what_if = _sum(
            Decimal(m["scenarios"][index]["cost"]) if m["scenarios"][index]["cost"] is not None else None
            for m in caching_models
        )
        caching_totals.append(
            {
                "hit_rate_percent": rate,
                "cost": _money(what_if),
                "saving": _money(None if what_if is None or priced_total is None else priced_total - what_if),
            }
        )
    batch_total = _sum(Decimal(m["batch_cost"]) if m["batch_cost"] is not None else None for m in batch_models)

    return {
        "customer": customer.code,
        "period": format_period(period),
        "currency": "CNY",
        "discount_percent": f"{pricing.discount(period):.2f}",
        "total_cost": _money(total),
        "missing_rates": sorted(pricing.missing),
        "model_mix": mix,
        "trend": trend,
        "cheaper_alternatives": {
            "note": (
                "Other models of the same provider, at their latest list price in force at the end of the "
                "month, re-priced for the same input, cached-input and output tokens. Price only: whether a "
                "model is good enough for the workload is not assessed."
            ),
            "models": alternatives,
        },
        "caching": {
            "hit_rates_percent": list(CACHE_HIT_RATES),
            "assumption": (
                "At least the stated share of each model's input tokens is read from the provider's prompt "
                "cache at that model's cached-input price (where the share already cached is higher, it is "
                "kept); output and the remaining input at the prices actually charged."
            ),
            "cost": _money(priced_total),
            "scenarios": caching_totals,
            "models": caching_models,
        },
        "batch": {
            "discount_percent": f"{batch_discount_percent:.2f}",
            "applies_to_providers": list(BATCH_PROVIDERS),
            "assumption": (
                f"All usage of these providers could be sent through their batch APIs at "
                f"{batch_discount_percent.normalize():f} % off; other providers are left at their actual cost."
            ),
            "source": BATCH_SOURCE,
            "cost": _money(priced_total),
            "batch_cost": _money(batch_total),
            "saving": _money(None if batch_total is None or priced_total is None else priced_total - batch_total),
            "models": batch_models,
        },
    }
