"""The estimate rules 1–4 of CONTRACT.md "Presales", as pure functions over a price
version and a rate (the service in presales/estimates.py and the savings levers both
price through them, so a what-if is priced exactly like an option).

Rule 4 of the money rules (the rate) and the discount are the proposed terms as a
``billing.pricing.terms.PeriodTerms`` (``estimate_terms``): the offered fixed rate, else the
latest rate entered up to the period of ``as_of`` (an open period), as summaries and
insights look it up. The cost of a workload is the what-if module's (billing/pricing/whatif.py
``modelled_cost``), so the savings levers price exactly as the options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from billing.models import PriceVersion
from billing.pricing.cost import exact_context, line_amount, vat_amount
from billing.pricing.money import quantize_money
from billing.pricing.terms import PeriodTerms
from billing.pricing.whatif import modelled_cost, workload_parts
from presales.models import EstimateOption

SECONDS_PER_DAY = 86_400
MONTHS = 12
HUNDRED = Decimal(100)
ONE = Decimal(1)


@dataclass(frozen=True)
class WorkloadInput:
    name: str
    input_tokens: int
    output_tokens: int
    models: list[tuple[str, str]]
    daily_requests: int | None = None
    average_qps: Decimal | None = None
    cached_share: Decimal = Decimal(0)
    cache_write_share: Decimal = Decimal(0)
    batch_share: Decimal = Decimal(0)


@dataclass(frozen=True)
class EstimateInput:
    prospect: str
    workloads: list[WorkloadInput]
    as_of: datetime
    scenario: str = ""
    days_per_month: int = 30
    monthly_growth_percent: Decimal = Decimal(0)
    discount_percent: Decimal = Decimal(0)
    fixed_exchange_rate: Decimal | None = None
    vat_rate: Decimal = Decimal("0.06")


@dataclass
class Priced:
    """One option's figures by rules 2–4 (the unrounded counts and cost, the money)."""

    monthly_requests: Decimal
    input_tokens: Decimal
    cached_input_tokens: Decimal
    output_tokens: Decimal
    cost: Decimal
    monthly_amount: Decimal
    monthly_vat: Decimal
    monthly_total: Decimal
    months: list[Decimal] = field(default_factory=list)
    first_year_amount: Decimal = Decimal(0)


def monthly_requests(*, daily_requests: int | None, average_qps: Decimal | None, days_per_month: int) -> Decimal:
    """Rule 1: daily requests (or average QPS × 86,400, unrounded) × days per month."""
    with exact_context():
        daily = Decimal(daily_requests) if daily_requests is not None else average_qps * SECONDS_PER_DAY
        return daily * days_per_month


def twelve_months(monthly_amount: Decimal, growth_percent: Decimal) -> list[Decimal]:
    """Rule 4: each month's amount with compound growth, rounded half up to the fen."""
    with exact_context():
        factor = ONE + growth_percent / HUNDRED
        return [quantize_money(monthly_amount * factor ** (i - 1)) for i in range(1, MONTHS + 1)]


def price_tokens(
    *,
    version: PriceVersion,
    requests: Decimal,
    input_per_request: int,
    output_per_request: int,
    cached_share: Decimal,
    rate: Decimal,
    discount_percent: Decimal,
    vat_rate: Decimal,
    growth_percent: Decimal,
    at: datetime | None = None,
    cache_write_share: Decimal = Decimal(0),
    batch_share: Decimal = Decimal(0),
) -> Priced | None:
    """Rules 2–4 for one workload × price version; None when the version has no price for
    these tokens (an input-only model asked for output, Batch where the model has none).

    Money rule 2′ prices one average request (``cached_share`` of its input read from the
    cache, ``cache_write_share`` written to it, at the cache-read and cache-write prices and
    the long-context tier of its input) at ``at``, standard and — for ``batch_share`` of the
    requests — through the version's Batch variant; × the monthly requests."""
    at = at or datetime.now(tz=UTC)  # only a version with time-of-day windows reads it
    with exact_context():
        input_tokens = requests * input_per_request
        cached = input_tokens * cached_share
        output_tokens = requests * output_per_request
    parts = workload_parts(
        requests=requests,
        per_request=per_request_counts(input_per_request, output_per_request, cached_share, cache_write_share),
        batch_share=batch_share,
    )
    cost = modelled_cost(version, parts, at)
    if cost is None:
        return None
    amount = line_amount({version.currency: cost}, discount_percent=discount_percent, rates={version.currency: rate})
    vat = vat_amount(amount, vat_rate)
    months = twelve_months(amount, growth_percent)
    return Priced(
        monthly_requests=requests,
        input_tokens=input_tokens,
        cached_input_tokens=cached,
        output_tokens=output_tokens,
        cost=cost,
        monthly_amount=amount,
        monthly_vat=vat,
        monthly_total=amount + vat,
        months=months,
        first_year_amount=sum(months, Decimal(0)),
    )


def per_request_counts(
    input_tokens: int, output_tokens: int, cached_share: Decimal, cache_write_share: Decimal
) -> dict[str, Decimal]:
    """One average request of a workload: its input, ``cached_share`` of it read from the cache,
    ``cache_write_share`` of it written to it, its output (money rule 2′'s counts)."""
    with exact_context():
        return {
            "input_tokens": Decimal(input_tokens),
            "cache_read_tokens": input_tokens * cached_share,
            "cache_write_tokens": input_tokens * cache_write_share,
            "output_tokens": Decimal(output_tokens),
        }


def estimate_terms(*, discount_percent: Decimal, fixed_exchange_rate: Decimal | None) -> PeriodTerms:
    """Money rules 4 and 5 for the offered terms (unsaved: no customer, every period open)."""
    return PeriodTerms.proposed(discount_percent=discount_percent, fixed_exchange_rate=fixed_exchange_rate)


def cheapest_options(options: list[EstimateOption]) -> dict[str, EstimateOption]:
    """Per workload name, its option with the lowest monthly amount (ties: the first given)."""
    best: dict[str, EstimateOption] = {}
    for option in options:
        current = best.get(option.workload.name)
        if current is None or option.monthly_amount < current.monthly_amount:
            best[option.workload.name] = option
    return best
