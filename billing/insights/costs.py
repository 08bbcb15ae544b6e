"""Cost insights for one customer and month, from its real rollups and the price book only.

Every figure is a re-pricing of usage the customer actually had; nothing is estimated from
outside data. Amounts are CNY, computed as a bill line would be (money rule 5): the cost in
the price currency × (1 − contract discount) × the rate, rounded half up to 0.01 once per
model. The terms are ``PeriodTerms``: the contract in force, and the rate of money rule 4
(exact for a closed month, the latest entered for an open one); a missing rate leaves the
affected amounts ``null`` and is listed.

The what-ifs (cheaper models, caching, Batch) are billing/pricing/whatif.py's, the very
ones a presales estimate shows for a workload, over the priced usage only (unpriced records
have no actual cost to compare with); each states its assumption (``notes``, in the reader's
language).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum

from billing.metering.rollups import UNIT_FIELDS
from billing.models import PriceVersion, UsageRollup
from billing.periods import format_period, next_period, period_start
from billing.pricing import whatif
from billing.pricing.cost import ZERO
from billing.pricing.money import quantize_money
from billing.pricing.terms import PeriodTerms
from customers.models import Customer

HUNDRED = Decimal("100")
TREND_MONTHS = 6
# The rollup column of each count of money rule 2′ (cache reads are ``cached_input_tokens``).
COUNT_COLUMNS = {
    "input_tokens": "input_tokens",
    "cache_read_tokens": "cached_input_tokens",
    "output_tokens": "output_tokens",
    **{name: name for name in UNIT_FIELDS},
}


def _money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{quantize_money(value) + ZERO:.2f}"  # + ZERO turns -0.00 into 0.00


def _percent(part: Decimal | None, whole: Decimal | None) -> str | None:
    if part is None or not whole:
        return None
    return f"{quantize_money(part * HUNDRED / whole) + ZERO:.2f}"


def priced_at(period: date) -> datetime:
    """When a month's what-ifs meet time-of-day prices: 12:00 on its 15th (BILLING_TIME_ZONE)."""
    return period_start(period) + timedelta(days=14, hours=12)


@dataclass
class _ModelMonth:
    provider: str
    model: str
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    unpriced_requests: int = 0
    usages: list[whatif.Usage] = field(default_factory=list)


def _usage_by_month(customer: Customer, first: date, last: date) -> dict[date, dict[tuple[str, str], _ModelMonth]]:
    rows = list(
        UsageRollup.objects.filter(customer=customer, period__gte=first, period__lte=last)
        .values("period", "provider", "model", "price_version_id", "variant")
        .annotate(r=Sum("requests"), cost=Sum("cost"), **{f"n_{name}": Sum(col) for name, col in COUNT_COLUMNS.items()})
        .order_by("period", "provider", "model", "price_version_id", "variant")
    )
    versions = PriceVersion.objects.in_bulk({r["price_version_id"] for r in rows if r["price_version_id"]})
    months: dict[date, dict[tuple[str, str], _ModelMonth]] = defaultdict(dict)
    slices: dict[tuple, dict] = {}
    for row in rows:
        key = (row["provider"], row["model"])
        usage = months[row["period"]].setdefault(key, _ModelMonth(*key))
        usage.requests += row["r"]
        usage.input_tokens += row["n_input_tokens"]
        usage.cached_input_tokens += row["n_cache_read_tokens"]
        usage.output_tokens += row["n_output_tokens"]
        if row["price_version_id"] is None:
            usage.unpriced_requests += row["r"]
            continue
        counts = {name: row[f"n_{name}"] for name in COUNT_COLUMNS if row[f"n_{name}"]}
        part = whatif.Part.of_variant(row["variant"], row["r"], counts)
        found = slices.setdefault((row["period"], key, row["price_version_id"]), {"parts": [], "cost": ZERO})
        found["parts"].append(part)
        found["cost"] += row["cost"]
    for (period, key, version_id), found in slices.items():
        months[period][key].usages.append(
            whatif.Usage(versions[version_id], tuple(found["parts"]), priced_at(period), found["cost"])
        )
    return months


def _sum(values) -> Decimal | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values, ZERO)


def _alternatives(u: _ModelMonth, catalogue, terms: PeriodTerms, period: date) -> list[dict]:
    return [
        {
            "provider": a.version.provider,
            "model": a.version.model,
            "price_effective_from": a.version.effective_from.isoformat(),
            "price_currency": a.version.currency,
            "input_per_mtok": str(a.version.input_per_mtok),
            "cached_input_per_mtok": str(a.version.effective_cached_input_per_mtok),
            "output_per_mtok": str(a.version.output_per_mtok),
            "cost": _money(a.amount),
            "saving": _money(a.saving),
            "saving_percent": _percent(a.saving, a.amount + a.saving),
        }
        for a in whatif.cheaper_models(u.usages, catalogue, terms, period)
    ]


def _caching(u: _ModelMonth, terms: PeriodTerms, period: date) -> dict:
    lever = whatif.caching_lever(u.usages, terms, period)
    return {
        "provider": u.provider,
        "model": u.model,
        "cost": _money(lever.amount),
        "cached_share": whatif.share_text(lever.share),
        "cache_write_share": whatif.share_text(lever.cache_write_share),
        "scenarios": [
            {
                "target_share": whatif.share_text(s.share),
                "cached_share": whatif.share_text(s.cached_share),
                "cache_write_share": whatif.share_text(s.cache_write_share),
                "cost": _money(s.amount),
                "saving": _money(s.saving),
            }
            for s in lever.scenarios
        ],
    }


def _batch(u: _ModelMonth, terms: PeriodTerms, period: date) -> dict:
    lever = whatif.batch_lever(u.usages, terms, period)
    return {
        "provider": u.provider,
        "model": u.model,
        "available": lever.available,
        "note": None if lever.available else whatif.text(whatif.TEXTS["no_batch"]),
        "cost": _money(lever.amount),
        "batch_share": whatif.share_text(lever.share),
        "scenarios": [
            {"target_share": whatif.share_text(s.share), "cost": _money(s.amount), "saving": _money(s.saving)}
            for s in lever.scenarios
        ],
    }


def _totals(models: list[dict], shares, cost: Decimal | None) -> list[dict]:
    """Per share, Σ over the models of the scenario's cost (a model without one: its cost now)."""
    totals = []
    for index, share in enumerate(shares):
        what_if = _sum(_decimal(m["scenarios"][index]["cost"] if m["scenarios"] else m["cost"]) for m in models)
        totals.append(
            {
                "target_share": whatif.share_text(share),
                "cost": _money(what_if),
                "saving": _money(None if what_if is None or cost is None else cost - what_if),
            }
        )
    return totals


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def cost_insights(*, customer: Customer, period: date) -> dict:
    """Model mix, 6-month trend, cheaper same-kind models, caching and Batch what-ifs."""
    first = next_period(period, -(TREND_MONTHS - 1))
    months = _usage_by_month(customer, first, period)
    terms = PeriodTerms(customer)
    current = sorted(months.get(period, {}).values(), key=lambda u: (u.provider, u.model))
    actual = {(u.provider, u.model): whatif.amount(u.usages, terms, period) for u in current}
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
            whatif.amount(months[p][key].usages, terms, p) if key in months.get(p, {}) else ZERO for p in trend_periods
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

    priced = [u for u in current if u.usages and actual[(u.provider, u.model)] is not None]
    month_end = period_start(next_period(period)) - timedelta(microseconds=1)
    catalogue = whatif.versions_in_force({u.provider for u in priced}, month_end)
    alternatives = [
        {
            "provider": u.provider,
            "model": u.model,
            "cost": _money(actual[(u.provider, u.model)]),
            "alternatives": _alternatives(u, catalogue.get(u.provider, []), terms, period),
        }
        for u in priced
    ]
    caching_models = [_caching(u, terms, period) for u in priced]
    batch_models = [_batch(u, terms, period) for u in priced]
    priced_total = _sum(actual[(u.provider, u.model)] for u in priced)
    notes = whatif.texts()

    return {
        "customer": customer.code,
        "period": format_period(period),
        "currency": "CNY",
        "discount_percent": f"{terms.discount(period):.2f}",
        "total_cost": _money(total),
        "missing_rates": terms.missing,
        "model_mix": mix,
        "trend": trend,
        "method": notes["method"],
        "cheaper_alternatives": {"note": notes["cheaper_models"], "models": alternatives},
        "caching": {
            "target_shares": [whatif.share_text(s) for s in whatif.CACHE_SHARES],
            "reads_per_write": whatif.READS_PER_WRITE,
            "assumption": notes["caching"],
            "cost": _money(priced_total),
            "scenarios": _totals(caching_models, whatif.CACHE_SHARES, priced_total),
            "models": caching_models,
        },
        "batch": {
            "target_shares": [whatif.share_text(s) for s in whatif.BATCH_SHARES],
            "assumption": notes["batch"],
            "cost": _money(priced_total),
            "scenarios": _totals(batch_models, whatif.BATCH_SHARES, priced_total),
            "models": batch_models,
        },
    }
