"""Savings levers of an estimate: the what-ifs of billing/pricing/whatif.py (the same module
customer insights use, so a workload and the same usage at a customer give the same figures),
plus the commitment tiers, which only presales offers.

Each lever states its assumption beside its figures (``whatif.TEXTS``); nothing is a fixed
"saves 30 %". They are computed for the cheapest option of each workload (the one a proposal
would usually offer), and for the estimate's cheapest total for the commitment tiers:

* caching: the shares of ``whatif.CACHE_SHARES`` above the workload's own (up to
  ``CACHE_SCENARIOS``) read from the cache, with the cache writes they need;
* Batch: the shares of ``whatif.BATCH_SHARES`` above the workload's own through the model's
  Batch prices (its price version's variant); a model without them has no Batch lever;
* a cheaper model of the same provider and kind (``billing.pricing.kinds.model_kind``) at ``as_of``;
* commitment: the monthly amount at the discount of each tier of ``COMMITMENT_TIERS`` (a
  minimum monthly commitment for a discount off list), against the offered discount.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_noop

from billing.periods import period_of
from billing.pricing import whatif
from billing.pricing.cost import line_amount
from billing.pricing.terms import PeriodTerms
from presales.rules import cheapest_options, per_request_counts

CACHE_SCENARIOS = 3
# (minimum monthly commitment in CNY, discount % off list in exchange): the house's tiers.
COMMITMENT_TIERS = (
    (Decimal("20000"), Decimal("3")),
    (Decimal("50000"), Decimal("5")),
    (Decimal("100000"), Decimal("8")),
)

COMMITMENT_ASSUMPTION = gettext_noop(
    "The cheapest option of every workload, at the tier's discount where it is above the offered one, in "
    "exchange for a minimum monthly commitment (a shortfall is billed as a minimum-commitment line). A tier "
    "is met when the estimated monthly amount at its discount reaches the commitment."
)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


_share = whatif.share_text


def _usage(option, estimate) -> whatif.Usage:
    """The option's workload as the what-if module takes it (modelled: no actual cost)."""
    workload = option.workload
    per_request = per_request_counts(
        workload.input_tokens, workload.output_tokens, workload.cached_share, workload.cache_write_share
    )
    parts = whatif.workload_parts(
        requests=option.monthly_requests, per_request=per_request, batch_share=workload.batch_share
    )
    return whatif.Usage(version=option.price_version, parts=parts, at=estimate.as_of)


def _caching(usage, workload, terms, period) -> dict:
    shares = [s for s in whatif.CACHE_SHARES if s > workload.cached_share][:CACHE_SCENARIOS]
    lever = whatif.caching_lever([usage], terms, period, shares)
    return {
        "cached_share": _share(workload.cached_share),
        "cache_write_share": _share(workload.cache_write_share),
        "scenarios": [
            {
                "cached_share": _share(s.cached_share),
                "cache_write_share": _share(s.cache_write_share),
                "monthly_amount": _money(s.amount),
                "saving": _money(s.saving),
            }
            for s in lever.scenarios
            if s.amount is not None
        ],
    }


def _batch(usage, workload, terms, period) -> dict:
    shares = [s for s in whatif.BATCH_SHARES if s > workload.batch_share]
    lever = whatif.batch_lever([usage], terms, period, shares)
    return {
        "batch_share": _share(workload.batch_share),
        "available": lever.available,
        "scenarios": [
            {"batch_share": _share(s.share), "monthly_amount": _money(s.amount), "saving": _money(s.saving)}
            for s in lever.scenarios
            if s.amount is not None
        ],
    }


def _cheaper(usage, catalogue, terms, period) -> list[dict]:
    return [
        {
            "provider": a.version.provider,
            "model": a.version.model,
            "price_version": a.version.pk,
            "monthly_amount": _money(a.amount),
            "saving": _money(a.saving),
        }
        for a in whatif.cheaper_models([usage], catalogue, terms, period)
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


def savings_levers(*, estimate, options: list, terms: PeriodTerms) -> dict:
    """The levers of ``estimate`` (stored on it; the API and the page show them as stored,
    their texts in the reader's language)."""
    cheapest = list(cheapest_options(options).values())
    catalogue = whatif.versions_in_force({o.provider for o in cheapest}, estimate.as_of)
    period = period_of(estimate.as_of)
    per_workload = []
    for option in cheapest:
        workload = option.workload
        usage = _usage(option, estimate)
        per_workload.append(
            {
                "workload": workload.name,
                "provider": option.provider,
                "model": option.model,
                "monthly_amount": _money(option.monthly_amount),
                "caching": _caching(usage, workload, terms, period),
                "batch": _batch(usage, workload, terms, period),
                "cheaper_models": _cheaper(usage, catalogue.get(option.provider, []), terms, period),
            }
        )
    return {
        "assumptions": {
            "caching": whatif.TEXTS["caching"],
            "batch": whatif.TEXTS["batch"],
            "cheaper_models": whatif.TEXTS["cheaper_models"],
            "commitment": COMMITMENT_ASSUMPTION,
        },
        "workloads": per_workload,
        "commitment": _commitment(cheapest, estimate),
    }
