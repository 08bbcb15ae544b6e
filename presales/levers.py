"""Savings levers of an estimate: what-ifs priced by the same rules as its options.

Each lever states its assumption beside its figures; nothing is a fixed "saves 30 %".
They are computed for the cheapest option of each workload (the one a proposal would
usually offer), and for the estimate's cheapest total for the commitment tiers:

* caching: the same volumes with 2–3 higher shares of input read from the prompt cache
  (``CACHE_SHARES`` above the workload's own), at the model's cached-input price;
* a cheaper model of the same provider: every other model of that provider in the price
  book at ``as_of``, re-priced for the same tokens, cheaper ones first (price only);
* commitment: the monthly amount at the discount of each tier of ``COMMITMENT_TIERS`` (a
  minimum monthly commitment for a discount off list), against the offered discount.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_noop

from billing.models import PriceVersion
from billing.pricing.cost import line_amount
from presales.rules import RateBook, cheapest_options, price_tokens

CACHE_SHARES = (Decimal("0.25"), Decimal("0.50"), Decimal("0.75"), Decimal("0.90"))
CACHE_SCENARIOS = 3
CHEAPER_MODELS = 3
# (minimum monthly commitment in CNY, discount % off list in exchange): the house's tiers.
COMMITMENT_TIERS = (
    (Decimal("20000"), Decimal("3")),
    (Decimal("50000"), Decimal("5")),
    (Decimal("100000"), Decimal("8")),
)

CACHING_ASSUMPTION = gettext_noop(
    "The same requests and tokens, with the stated share of input tokens read from the provider's prompt "
    "cache at the model's cached-input price (a model without a cache price saves nothing); discount, rate "
    "and VAT unchanged."
)
CHEAPER_ASSUMPTION = gettext_noop(
    "Other models of the same provider at their price in force at the estimate's date, for the same "
    "input, cached and output tokens. Price only: whether the model is good enough for the workload is "
    "not assessed."
)
COMMITMENT_ASSUMPTION = gettext_noop(
    "The cheapest option of every workload, at the tier's discount where it is above the offered one, in "
    "exchange for a minimum monthly commitment (a shortfall is billed as a minimum-commitment line). A tier "
    "is met when the estimated monthly amount at its discount reaches the commitment."
)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _reprice(option, workload, version: PriceVersion, rates: RateBook, estimate, *, cached_share=None, discount=None):
    rate = rates.rate(version.currency)
    if rate is None:
        return None
    return price_tokens(
        version=version,
        requests=option.monthly_requests,
        input_per_request=workload.input_tokens,
        output_per_request=workload.output_tokens,
        cached_share=workload.cached_share if cached_share is None else cached_share,
        rate=rate,
        discount_percent=estimate.discount_percent if discount is None else discount,
        vat_rate=estimate.vat_rate,
        growth_percent=estimate.monthly_growth_percent,
    )


def _caching(option, workload, rates, estimate) -> dict:
    shares = [s for s in CACHE_SHARES if s > workload.cached_share][:CACHE_SCENARIOS]
    scenarios = []
    for share in shares:
        priced = _reprice(option, workload, option.price_version, rates, estimate, cached_share=share)
        if priced is None:
            continue
        scenarios.append(
            {
                "cached_share": f"{share:.2f}",
                "monthly_amount": _money(priced.monthly_amount),
                "saving": _money(option.monthly_amount - priced.monthly_amount),
            }
        )
    return {"cached_share": f"{workload.cached_share:.2f}", "scenarios": scenarios}


def _catalogue(providers: set[str], as_of) -> dict[str, list[PriceVersion]]:
    """Per provider, each model's price version in force at ``as_of`` (money rule 1)."""
    versions = (
        PriceVersion.objects.filter(provider__in=providers, effective_from__lte=as_of)
        .order_by("provider", "model", "-effective_from")
        .distinct("provider", "model")
    )
    result: dict[str, list[PriceVersion]] = {}
    for version in versions:
        result.setdefault(version.provider, []).append(version)
    return result


def _cheaper(option, workload, versions: list[PriceVersion], rates, estimate) -> list[dict]:
    found = []
    for version in versions:
        if version.model == option.model:
            continue
        priced = _reprice(option, workload, version, rates, estimate)
        if priced is None or priced.monthly_amount >= option.monthly_amount:
            continue
        found.append((priced.monthly_amount, version))
    found.sort(key=lambda item: (item[0], item[1].model))
    return [
        {
            "provider": version.provider,
            "model": version.model,
            "price_version": version.pk,
            "monthly_amount": _money(amount),
            "saving": _money(option.monthly_amount - amount),
        }
        for amount, version in found[:CHEAPER_MODELS]
    ]


def _commitment(cheapest: list, estimate) -> dict:
    """Each tier at the better of its discount and the offered one (a tier below the offer
    changes nothing), and whether the estimated monthly amount reaches its commitment."""
    current = sum((o.monthly_amount for o in cheapest), Decimal(0))
    tiers = []
    for commitment, tier_discount in COMMITMENT_TIERS:
        discount = max(tier_discount, estimate.discount_percent)
        amount = sum(
            (
                line_amount({o.currency: o.cost}, discount_percent=discount, rates={o.currency: o.exchange_rate})
                for o in cheapest
            ),
            Decimal(0),
        )
        tiers.append(
            {
                "minimum_monthly_commitment": _money(commitment),
                "tier_discount_percent": f"{tier_discount:.2f}",
                "discount_percent": f"{discount:.2f}",
                "monthly_amount": _money(amount),
                "saving": _money(current - amount),
                "met": amount >= commitment,
            }
        )
    return {
        "monthly_amount": _money(current),
        "offered_discount_percent": f"{estimate.discount_percent:.2f}",
        "tiers": tiers,
    }


def savings_levers(*, estimate, options: list, rates: RateBook) -> dict:
    """The levers of ``estimate`` (stored on it; the API and the page show them as stored)."""
    cheapest = list(cheapest_options(options).values())
    catalogue = _catalogue({o.provider for o in cheapest}, estimate.as_of)
    per_workload = []
    for option in cheapest:
        workload = option.workload
        per_workload.append(
            {
                "workload": workload.name,
                "provider": option.provider,
                "model": option.model,
                "monthly_amount": _money(option.monthly_amount),
                "caching": _caching(option, workload, rates, estimate),
                "cheaper_models": _cheaper(option, workload, catalogue.get(option.provider, []), rates, estimate),
            }
        )
    return {
        "assumptions": {
            "caching": CACHING_ASSUMPTION,
            "cheaper_models": CHEAPER_ASSUMPTION,
            "commitment": COMMITMENT_ASSUMPTION,
        },
        "workloads": per_workload,
        "commitment": _commitment(cheapest, estimate),
    }
