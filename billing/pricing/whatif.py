"""Savings what-ifs, written once: presales levers (presales/levers.py) and customer insights
(billing/insights/costs.py) both call these, so the same usage gives the same figures.

A model's usage is a ``Usage``: its price version, the time it is priced at, its ``Part``s
(requests and the sums of their counts per context: standard, ``batch``, ``flex`` …) and,
when known, what it actually cost. A what-if changes the parts and prices them again by money
rule 2′ (``billing.pricing.cost.price_plan``), each part as that many requests of its average
size (every count ÷ requests), so cache-read, cache-write, long-context and Batch prices are
the price version's own. Where the actual cost is known (insights: the rollups' cost), the
what-if costs the actual cost plus the change the re-pricing finds; an estimate's cost is
the modelled one, so for the same usage both give the same figure.

The levers (texts in ``TEXTS``, shown beside every figure):

* caching (``cached``): at least a share of each part's input read from the cache, at the
  cache-read price, plus the cache writes those reads need: one 5-minute write per
  ``READS_PER_WRITE`` newly read tokens, at the cache-write price (the input price where the
  model has none), both taken out of the input not yet cached;
* Batch (``batched``): at least a share of the requests at the standard context moved to
  ``processing: batch``, priced by the version's Batch variant; no Batch variant → no Batch
  lever (``batch_available``), never a fixed percentage;
* a cheaper model (``cheaper_models``): the same parts at another model's price version in
  force, of the same provider and the same kind (``model_kind``), cheaper ones first.

Amounts in CNY are money rule 5 (docs/money-rules.md) through ``PeriodTerms.cny`` (discount, rate, one rounding).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext, gettext_noop

from billing.models import PriceVersion
from billing.pricing import pricemaps
from billing.pricing.cost import ZERO, exact_context, price_plan
from billing.pricing.kinds import model_kind
from billing.pricing.terms import PeriodTerms

ONE = Decimal(1)
CACHE_SHARES = (Decimal("0.25"), Decimal("0.50"), Decimal("0.75"), Decimal("0.90"))
READS_PER_WRITE = 4
BATCH_SHARES = (Decimal("0.50"), Decimal("1"))
CHEAPER_MODELS = 3

TEXTS = {
    "method": gettext_noop(
        "Each model's usage is priced again as its number of requests of average size (every count ÷ the "
        "requests), by money rule 2′ at the model's price version: cache-read, cache-write, long-context and "
        "Batch prices as the price book states them. Where the actual cost is known, a what-if is the actual "
        "cost plus the change this re-pricing finds."
    ),
    "caching": gettext_noop(
        "The same requests and tokens with at least the stated share of input tokens read from the provider's "
        "prompt cache, at the model's cache-read price. Tokens newly read must first be written to the cache: "
        "one 5-minute cache write for every %(reads_per_write)s tokens newly read, at the model's cache-write "
        "price (its input price where it has none), both taken out of the input not yet cached. A model without "
        "a cache-read price saves nothing. Discount, rate and VAT unchanged."
    ),
    "batch": gettext_noop(
        "At least the stated share of requests sent through the provider's Batch API (asynchronous, results "
        "within 24 hours), at the model's own Batch prices in its price version; requests at a flex or priority "
        "service tier stay as they are. A model whose price version has no Batch prices has no Batch lever. "
        "Discount, rate and VAT unchanged."
    ),
    "cheaper_models": gettext_noop(
        "Other models of the same provider and the same kind (a chat model is compared with chat models only, "
        "never with safety classifiers, moderation, embedding, audio or image models) at their price in force, "
        "for the same requests and counts (cache reads and writes, Batch share). Price only: whether the model "
        "is good enough for the workload is not assessed."
    ),
    "no_batch": gettext_noop("No Batch prices for this model in the price book: no Batch lever."),
}
TEXT_PARAMS = {"reads_per_write": READS_PER_WRITE}


def text(msgid: str) -> str:
    """A lever text (a ``TEXTS`` value, or one stored by an earlier version) in the reader's language."""
    return gettext(msgid) % TEXT_PARAMS if "%(" in msgid else gettext(msgid)


def texts() -> dict[str, str]:
    return {key: text(msgid) for key, msgid in TEXTS.items()}


# --- Usage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """Requests of one context and the sums of their counts (money rule 2′'s names)."""

    requests: Decimal
    counts: Mapping[str, Decimal]
    processing: str = "standard"
    service_tier: str = "default"

    @classmethod
    def of_variant(cls, variant: str, requests, counts: Mapping[str, Decimal]) -> Part:
        """A part from a rollup's ``variant`` (``standard``, ``batch``, ``flex``, ``batch+flex``)."""
        values = [] if variant == "standard" else variant.split("+")
        processing = "batch" if "batch" in values else "standard"
        tiers = [v for v in values if v != "batch"]
        return cls(Decimal(requests), dict(counts), processing, tiers[0] if tiers else "default")

    def count(self, name: str) -> Decimal:
        return Decimal(self.counts.get(name, 0))

    def scaled(self, factor: Decimal, **context) -> Part:
        with exact_context():
            counts = {name: Decimal(n) * factor for name, n in self.counts.items()}
            return replace(self, requests=self.requests * factor, counts=counts, **context)

    @property
    def standard(self) -> bool:
        """At the default context (what a Batch lever may move)."""
        return self.processing == "standard" and self.service_tier in pricemaps.DEFAULT_VALUES["service_tier"]


def workload_parts(
    *, requests: Decimal, per_request: Mapping[str, Decimal], batch_share: Decimal = ZERO
) -> tuple[Part, ...]:
    """An estimate's workload: ``requests`` alike, ``batch_share`` of them through Batch."""
    with exact_context():
        whole = Part(requests, {name: Decimal(n) * requests for name, n in per_request.items()})
    parts = []
    if batch_share < ONE:
        parts.append(whole.scaled(ONE - batch_share))
    if batch_share:
        parts.append(whole.scaled(batch_share, processing="batch"))
    return tuple(parts)


@dataclass(frozen=True)
class Usage:
    """One model's usage at one price version, priced at ``at`` (time-of-day prices);
    ``cost`` is the actual cost in the version's currency, None where it is the modelled one."""

    version: PriceVersion
    parts: tuple[Part, ...]
    at: datetime
    cost: Decimal | None = None


def modelled_cost(version: PriceVersion, parts: Iterable[Part], at: datetime) -> Decimal | None:
    """Σ requests × rule 2′ cost of the part's average request; None when any part is unpriced."""
    plan = price_plan(version)
    total = ZERO
    with exact_context():
        for part in parts:
            if not part.requests:
                continue
            average = {name: Decimal(n) / part.requests for name, n in part.counts.items()}
            cost = plan.cost(average, at, part.processing, part.service_tier)
            if cost is None:
                return None
            total += part.requests * cost
    return total


def actual_cost(usage: Usage) -> Decimal | None:
    return usage.cost if usage.cost is not None else modelled_cost(usage.version, usage.parts, usage.at)


def what_if_cost(usage: Usage, parts: tuple[Part, ...]) -> Decimal | None:
    """The cost of ``usage`` with ``parts`` instead of its own: actual + (modelled new − modelled now)."""
    if parts == usage.parts:
        return actual_cost(usage)
    now = modelled_cost(usage.version, usage.parts, usage.at)
    new = modelled_cost(usage.version, parts, usage.at)
    if now is None or new is None:
        return None
    with exact_context():
        return (now if usage.cost is None else usage.cost) - now + new


def cached(parts: Sequence[Part], share: Decimal) -> tuple[Part, ...]:
    """At least ``share`` of each part's input read from the cache, with the writes it needs."""
    result = []
    with exact_context():
        for part in parts:
            input_tokens = part.count("input_tokens")
            reads, writes = part.count("cache_read_tokens"), part.count("cache_write_tokens")
            uncached = input_tokens - reads - writes
            extra = min(max(input_tokens * share - reads, ZERO), uncached)
            if not extra:
                result.append(part)
                continue
            written = min(extra / READS_PER_WRITE, uncached - extra)
            counts = dict(part.counts)
            counts["cache_read_tokens"] = reads + extra
            counts["cache_write_tokens"] = writes + written
            counts["cache_write_5m_tokens"] = part.count("cache_write_5m_tokens") + written
            result.append(replace(part, counts=counts))
    return tuple(result)


def _batch_requests(parts: Sequence[Part]) -> tuple[Decimal, Decimal]:
    """(standard requests a Batch lever may move, requests already through Batch at the default tier)."""
    eligible = sum((p.requests for p in parts if p.standard), ZERO)
    batch = sum(
        (
            p.requests
            for p in parts
            if p.processing == "batch" and p.service_tier in pricemaps.DEFAULT_VALUES["service_tier"]
        ),
        ZERO,
    )
    return eligible, batch


def batch_share_of(parts: Sequence[Part]) -> Decimal:
    """Batch requests ÷ the requests a Batch lever concerns (standard and batch, default tier)."""
    eligible, batch = _batch_requests(parts)
    with exact_context():
        return batch / (eligible + batch) if eligible + batch else ZERO


def batched(parts: Sequence[Part], share: Decimal) -> tuple[Part, ...]:
    """At least ``share`` of the standard and batch requests through Batch (standard ones moved)."""
    eligible, batch = _batch_requests(parts)
    if not eligible or batch_share_of(parts) >= share:
        return tuple(parts)
    with exact_context():
        moved = (share * (eligible + batch) - batch) / eligible  # the fraction of each standard part
    result: list[Part] = []
    for part in parts:
        if not part.standard:
            result.append(part)
            continue
        if moved < ONE:
            result.append(part.scaled(ONE - moved))
        result.append(part.scaled(moved, processing="batch", service_tier="default"))
    return tuple(result)


def batch_available(usage: Usage) -> bool:
    """Whether the version prices the usage's standard requests through Batch (its variant)."""
    standard = [p for p in usage.parts if p.standard] or [Part(ONE, {"input_tokens": ONE, "output_tokens": ONE})]
    moved = [replace(p, processing="batch", service_tier="default") for p in standard]
    return modelled_cost(usage.version, moved, usage.at) is not None


# --- Levers in CNY ----------------------------------------------------------------------------


@dataclass
class Scenario:
    share: Decimal
    amount: Decimal | None
    saving: Decimal | None
    cached_share: Decimal = ZERO
    cache_write_share: Decimal = ZERO


@dataclass
class Lever:
    """A lever of one model: its amount now and each scenario's (CNY, money rule 5)."""

    share: Decimal  # the current cached / Batch share
    amount: Decimal | None
    available: bool = True
    cache_write_share: Decimal = ZERO
    scenarios: list[Scenario] = field(default_factory=list)


@dataclass
class Alternative:
    version: PriceVersion
    amount: Decimal
    saving: Decimal


def _cny(costs: Iterable[tuple[str, Decimal | None]], terms: PeriodTerms, period) -> Decimal | None:
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    with exact_context():
        for currency, cost in costs:
            if cost is None:
                return None
            by_currency[currency] += cost
    return terms.cny(by_currency, period)


def amount(usages: Sequence[Usage], terms: PeriodTerms, period) -> Decimal | None:
    """The CNY amount of the usages as they are (actual, or modelled for an estimate)."""
    return _cny(((u.version.currency, actual_cost(u)) for u in usages), terms, period)


def _saving(now: Decimal | None, then: Decimal | None) -> Decimal | None:
    return None if now is None or then is None else now - then


def _shares(usages: Sequence[Usage], name: str) -> Decimal:
    parts = [p for u in usages for p in u.parts]
    whole = sum((p.count("input_tokens") for p in parts), ZERO)
    with exact_context():
        return sum((p.count(name) for p in parts), ZERO) / whole if whole else ZERO


def caching_lever(
    usages: Sequence[Usage], terms: PeriodTerms, period, shares: Sequence[Decimal] = CACHE_SHARES
) -> Lever:
    now = amount(usages, terms, period)
    lever = Lever(
        share=_shares(usages, "cache_read_tokens"),
        amount=now,
        cache_write_share=_shares(usages, "cache_write_tokens"),
    )
    for share in shares:
        changed = [replace(u, parts=cached(u.parts, share)) for u in usages]
        then = _cny(
            ((u.version.currency, what_if_cost(u, c.parts)) for u, c in zip(usages, changed, strict=True)),
            terms,
            period,
        )
        lever.scenarios.append(
            Scenario(
                share,
                then,
                _saving(now, then),
                cached_share=_shares(changed, "cache_read_tokens"),
                cache_write_share=_shares(changed, "cache_write_tokens"),
            )
        )
    return lever


def batch_lever(usages: Sequence[Usage], terms: PeriodTerms, period, shares: Sequence[Decimal] = BATCH_SHARES) -> Lever:
    now = amount(usages, terms, period)
    parts = [p for u in usages for p in u.parts]
    lever = Lever(share=batch_share_of(parts), amount=now, available=all(batch_available(u) for u in usages))
    if not lever.available:
        return lever
    for share in shares:
        then = _cny(((u.version.currency, what_if_cost(u, batched(u.parts, share))) for u in usages), terms, period)
        lever.scenarios.append(Scenario(share, then, _saving(now, then)))
    return lever


def versions_in_force(providers: Iterable[str], at: datetime) -> dict[str, list[PriceVersion]]:
    """Per provider, each model's price version in force at ``at`` (money rule 1)."""
    versions = (
        PriceVersion.objects.filter(provider__in=set(providers), effective_from__lte=at)
        .order_by("provider", "model", "-effective_from")
        .distinct("provider", "model")
    )
    result: dict[str, list[PriceVersion]] = defaultdict(list)
    for version in versions:
        result[version.provider].append(version)
    return result


def cheaper_models(
    usages: Sequence[Usage], catalogue: Iterable[PriceVersion], terms: PeriodTerms, period, *, limit=CHEAPER_MODELS
) -> list[Alternative]:
    """Models of the same kind priced for the same parts, cheaper than now, cheapest first."""
    now = amount(usages, terms, period)
    if now is None or not usages:
        return []
    model = usages[0].version.model
    kind = model_kind(model)
    found = []
    for version in catalogue:
        if version.model == model or model_kind(version.model) != kind:
            continue
        costs = [(version.currency, modelled_cost(version, u.parts, u.at)) for u in usages]
        then = _cny(costs, terms, period)
        if then is not None and then < now:
            found.append(Alternative(version, then, now - then))
    found.sort(key=lambda a: (a.amount, a.version.model))
    return found[:limit]


def share_text(share: Decimal) -> str:
    """A share for display: two decimals, half up (0.125 → "0.13")."""
    return f"{share.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"
