"""Estimates: a prospect's workloads priced on the live price book (CONTRACT.md "Presales").

The estimate rules, in the order of the contract:

1. ``monthly_requests = daily_requests × days_per_month``; from an average QPS,
   ``daily_requests = average_qps × 86,400``, unrounded.
2. Per workload × candidate model: monthly tokens = tokens per request × monthly requests,
   ``cached = input × cached_share`` (and ``cache_write_share`` written, ``batch_share`` of the
   requests through Batch), costed by money rule 2′ (billing/pricing/whatif.py
   ``modelled_cost``) at the price version in force at ``as_of`` (money rule 1, ``PriceIndex``).
3. ``monthly_amount`` by money rule 5 (``line_amount``: discount and rate, one rounding),
   ``monthly_vat`` by ``vat_amount``, ``monthly_total = amount + vat``.
4. Month ``i`` of 12: ``round_half_up(monthly_amount × (1 + growth/100)^(i−1), 2)``;
   ``first_year_amount`` is their sum.

The rate is money rule 4 for an open period, through ``billing.pricing.terms.PeriodTerms``
(the offered terms, unsaved): the offered ``fixed_exchange_rate`` if given,
else the latest rate entered up to the period of ``as_of``; 1 for CNY prices. So the
monthly amount is, to the fen, the usage line a bill would carry for the same tokens at
the same price version, discount and rate.
"""

from __future__ import annotations

import difflib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import PriceVersion
from billing.periods import billing_tz, format_period, period_of
from billing.pricing.index import PriceIndex
from billing.pricing.terms import PeriodTerms
from presales.levers import savings_levers
from presales.models import Estimate, EstimateOption, Workload
from presales.rules import EstimateInput, estimate_terms, monthly_requests, price_tokens


def close_model_names(provider: str | None, model: str, as_of, *, limit: int = 3) -> list[str]:
    """The price book's names closest to ``model`` (difflib), of ``provider`` when named:
    ``claude-haiku`` → ``anthropic/claude-haiku-4-5``. A name that extends the one given
    counts as close even where difflib's ratio is low."""
    versions = PriceVersion.objects.filter(effective_from__lte=as_of)
    if provider:
        versions = versions.filter(provider=provider)
    names = {m: p for p, m in versions.values_list("provider", "model").distinct()}
    wanted = model.lower()
    extending = sorted((n for n in names if n.lower().startswith(wanted)), key=len)
    close = difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.6)
    found = list(dict.fromkeys([*extending, *close]))[:limit]
    return [f"{names[n]}/{n}" for n in found]


def _resolve_versions(request: EstimateInput) -> dict[tuple[int, int], PriceVersion]:
    """The price version in force at ``as_of`` of every candidate; an unknown model (or one
    sold by several providers when none is named) is an error naming it."""
    index = PriceIndex({model for w in request.workloads for _provider, model in w.models})
    versions: dict[tuple[int, int], PriceVersion] = {}
    errors: dict[str, list[str]] = {}
    for w, workload in enumerate(request.workloads):
        for m, (provider, model) in enumerate(workload.models):
            resolved = index.resolve(provider, model)
            version = index.price_at(*resolved, request.as_of) if resolved else None
            if version is None:
                field_name = f"workloads[{w}].models[{m}].model"
                if resolved is None:
                    message = _("Several providers sell %(model)s: name the provider.") % {"model": model}
                else:
                    message = _("Unknown model %(model)s: the price book has no price for it at %(as_of)s.") % {
                        "model": f"{provider}/{model}" if provider else model,
                        "as_of": f"{request.as_of.astimezone(billing_tz()):%Y-%m-%d %H:%M}",
                    }
                    close = close_model_names(provider, model, request.as_of)
                    if close:
                        message += " " + _("Did you mean %(names)s?") % {"names": ", ".join(close)}
                errors[field_name] = [message]
                continue
            versions[(w, m)] = version
    if errors:
        raise ValidationError(errors)
    return versions


def _rates_for(versions, terms: PeriodTerms, period) -> None:
    for version in versions:
        if terms.rate(version.currency, period) is None:
            raise ValidationError(
                {
                    "fixed_exchange_rate": [
                        _(
                            "No %(currency)s exchange rate is entered up to %(period)s: give fixed_exchange_rate "
                            "or have finance enter the rate."
                        )
                        % {"currency": version.currency, "period": format_period(period)}
                    ]
                }
            )


@transaction.atomic
def estimate_create(*, request: EstimateInput, by=None) -> Estimate:
    """Price ``request`` and store it with its workloads and options; nothing is stored when
    a model or a rate is missing (ValidationError naming the field)."""
    versions = _resolve_versions(request)
    terms = estimate_terms(discount_percent=request.discount_percent, fixed_exchange_rate=request.fixed_exchange_rate)
    period = period_of(request.as_of)
    _rates_for(versions.values(), terms, period)

    estimate = Estimate.objects.create(
        prospect=request.prospect.strip(),
        scenario=request.scenario,
        days_per_month=request.days_per_month,
        monthly_growth_percent=request.monthly_growth_percent,
        discount_percent=request.discount_percent,
        fixed_exchange_rate=request.fixed_exchange_rate,
        vat_rate=request.vat_rate,
        as_of=request.as_of,
        created_by=by if getattr(by, "pk", None) else None,
    )
    options: list[EstimateOption] = []
    for w, item in enumerate(request.workloads):
        workload = Workload.objects.create(
            estimate=estimate,
            position=w,
            name=item.name.strip(),
            daily_requests=item.daily_requests,
            average_qps=item.average_qps,
            input_tokens=item.input_tokens,
            output_tokens=item.output_tokens,
            cached_share=item.cached_share,
            cache_write_share=item.cache_write_share,
            batch_share=item.batch_share,
            candidate_models=[{"provider": p, "model": m} for p, m in item.models],
        )
        requests = monthly_requests(
            daily_requests=item.daily_requests, average_qps=item.average_qps, days_per_month=request.days_per_month
        )
        for m in range(len(item.models)):
            version = versions[(w, m)]
            rate = terms.rate(version.currency, period)
            priced = price_tokens(
                version=version,
                requests=requests,
                input_per_request=item.input_tokens,
                output_per_request=item.output_tokens,
                cached_share=item.cached_share,
                cache_write_share=item.cache_write_share,
                batch_share=item.batch_share,
                at=request.as_of,
                rate=rate,
                discount_percent=request.discount_percent,
                vat_rate=request.vat_rate,
                growth_percent=request.monthly_growth_percent,
            )
            if priced is None:
                raise ValidationError(
                    {
                        "workloads": [
                            _(
                                "%(provider)s/%(model)s has no price for these tokens (e.g. output of an input-only model)."
                            )
                            % {"provider": version.provider, "model": version.model}
                        ]
                    }
                )
            options.append(
                EstimateOption(
                    estimate=estimate,
                    workload=workload,
                    position=len(options),
                    provider=version.provider,
                    model=version.model,
                    price_version=version,
                    currency=version.currency,
                    exchange_rate=rate,
                    monthly_requests=priced.monthly_requests,
                    input_tokens=priced.input_tokens,
                    cached_input_tokens=priced.cached_input_tokens,
                    output_tokens=priced.output_tokens,
                    cost=priced.cost,
                    monthly_amount=priced.monthly_amount,
                    monthly_vat=priced.monthly_vat,
                    monthly_total=priced.monthly_total,
                    months=[f"{amount:.2f}" for amount in priced.months],
                    first_year_amount=priced.first_year_amount,
                )
            )
    EstimateOption.objects.bulk_create(options)
    estimate.levers = savings_levers(estimate=estimate, options=options, terms=terms)
    estimate.exchange_rates = {c: f"{r:f}" for c, r in terms.used(period).items()}
    estimate.save(update_fields=["levers", "exchange_rates"])
    return estimate
