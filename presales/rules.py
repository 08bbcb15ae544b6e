"""The estimate rules 1–4 (docs/money-rules.md), as pure functions over a price
version and a rate (the service in presales/estimates.py and the savings levers both
price through them, so a what-if is priced exactly like an option).

Money rule 4 (the rate) is ``RateBook``: the offered fixed rate, else the
latest rate entered up to the period of ``as_of``, through ``exchange_rate_for`` as bills
and summaries do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from billing.models import PriceVersion
from billing.periods import period_of
from billing.pricing.cost import exact_context, line_amount, price_plan, vat_amount
from billing.pricing.money import quantize_money
from billing.pricing.selectors import exchange_rate_for
from common.vat import DEFAULT_VAT_RATE
from customers.models import Contract
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
    vat_rate: Decimal = DEFAULT_VAT_RATE


@dataclass
class Priced:
    """One option's figures by estimate rules 2–4 (the unrounded counts and cost, the money)."""

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
    """Estimate rule 1: daily requests (or average QPS × 86,400, unrounded) × days per month."""
    with exact_context():
        daily = Decimal(daily_requests) if daily_requests is not None else average_qps * SECONDS_PER_DAY
        return daily * days_per_month


def twelve_months(monthly_amount: Decimal, growth_percent: Decimal) -> list[Decimal]:
    """Estimate rule 4: each month's amount with compound growth, rounded half up to the fen."""
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
    """Estimate rules 2–4 for one workload × price version; None when the version has no price for
    these tokens (an input-only model asked for output, Batch where the model has none).

    Money rule 2′ prices one average request (``cached_share`` of its input read from the
    cache, ``cache_write_share`` written to it, at the cache-read and cache-write prices and
    the long-context tier of its input) at ``at``, standard and — for ``batch_share`` of the
    requests — through the version's Batch variant; × the monthly requests."""
    plan = price_plan(version)
    at = at or datetime.now(tz=UTC)  # only a version with time-of-day windows reads it
    with exact_context():
        input_tokens = requests * input_per_request
        cached = input_tokens * cached_share
        output_tokens = requests * output_per_request
        one_request = {
            "input_tokens": Decimal(input_per_request),
            "cache_read_tokens": input_per_request * cached_share,
            "cache_write_tokens": input_per_request * cache_write_share,
            "output_tokens": Decimal(output_per_request),
        }
        standard = plan.cost(one_request, at) if batch_share < ONE else Decimal(0)
        batch = plan.cost(one_request, at, processing="batch") if batch_share else Decimal(0)
        if standard is None or batch is None:
            return None
        cost = requests * ((ONE - batch_share) * standard + batch_share * batch)
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


class RateBook:
    """Money rule 4 for the estimate's terms, each currency looked up once."""

    def __init__(self, *, fixed_exchange_rate: Decimal | None, as_of: datetime):
        # The proposed contract terms, unsaved: exchange_rate_for reads the fixed rate off them.
        self.terms = Contract(fixed_exchange_rate=fixed_exchange_rate)
        self.period = period_of(as_of)
        self.rates: dict[str, Decimal | None] = {}

    def rate(self, currency: str) -> Decimal | None:
        if currency not in self.rates:
            self.rates[currency] = exchange_rate_for(currency, self.period, contract=self.terms, exact=False)
        return self.rates[currency]

    def used(self) -> dict[str, Decimal]:
        return {c: r for c, r in sorted(self.rates.items()) if r is not None}


def cheapest_options(options: list[EstimateOption]) -> dict[str, EstimateOption]:
    """Per workload name, its option with the lowest monthly amount (ties: the first given)."""
    best: dict[str, EstimateOption] = {}
    for option in options:
        current = best.get(option.workload.name)
        if current is None or option.monthly_amount < current.monthly_amount:
            best[option.workload.name] = option
    return best
