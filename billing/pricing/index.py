"""Price versions and aliases for a set of model names, searchable by time (money rule 1, docs/money-rules.md)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime

from billing.models import DefaultProvider, ModelAlias, PriceVersion, UsageRollup


class PriceIndex:
    """Price versions and aliases for a set of model names, searchable by time."""

    def __init__(self, model_names: set[str]):
        aliases = ModelAlias.objects.filter(alias__in=model_names).values_list("provider", "alias", "model")
        self.alias: dict[tuple[str, str], str] = {(p, a): m for p, a, m in aliases}
        canonical = set(model_names) | {m for _p, _a, m in aliases}
        self.versions: dict[tuple[str, str], list[PriceVersion]] = defaultdict(list)
        for version in PriceVersion.objects.filter(model__in=canonical).order_by("effective_from"):
            self.versions[(version.provider, version.model)].append(version)
        self.starts = {k: [v.effective_from for v in vs] for k, vs in self.versions.items()}
        self.providers_of: dict[str, set[str]] = defaultdict(set)
        for provider, model in self.versions:
            self.providers_of[model].add(provider)
        for (provider, alias), model in self.alias.items():
            if (provider, model) in self.versions:
                self.providers_of[alias].add(provider)

        # For models several providers sell, asked only when a record names no provider:
        # each customer's providers of the model and the price book's default, once a batch.
        self._used: dict[tuple[int, str], set[str]] = {}
        self._defaults: dict[str, str] | None = None

    def resolve(self, provider: str, model: str, customer_id: int | None = None) -> tuple[str, str] | None:
        """(provider, canonical model), or None when several providers sell ``model`` and
        nothing chooses one. Without ``provider``: the only provider selling it; else the only
        one of them the customer has used; else the price book's default provider of the
        model (DefaultProvider)."""
        if provider:
            return provider, self.alias.get((provider, model), model)
        candidates = self.providers_of.get(model, set())
        if len(candidates) > 1:
            chosen = self._chosen(model, candidates, customer_id)
            return None if chosen is None else (chosen, self.alias.get((chosen, model), model))
        if not candidates:
            return "", model
        (only,) = candidates
        return only, self.alias.get((only, model), model)

    def _chosen(self, model: str, candidates: set[str], customer_id: int | None) -> str | None:
        if customer_id is not None:
            if (customer_id, model) not in self._used:
                self._used[(customer_id, model)] = self._providers_used(customer_id, model, candidates)
            used = self._used[(customer_id, model)]
            if len(used) == 1:
                return next(iter(used))
        if self._defaults is None:
            ambiguous = [m for m, providers in self.providers_of.items() if len(providers) > 1]
            self._defaults = dict(DefaultProvider.objects.filter(model__in=ambiguous).values_list("model", "provider"))
        default = self._defaults.get(model)
        return default if default in candidates else None

    def _providers_used(self, customer_id: int, model: str, candidates: set[str]) -> set[str]:
        """Which of ``candidates`` bill ``model`` (by its canonical name under each) in the
        customer's usage: one query on the rollups (index led by the customer)."""
        names = {p: self.alias.get((p, model), model) for p in candidates}
        used = (
            UsageRollup.objects.filter(customer_id=customer_id, provider__in=candidates, model__in=set(names.values()))
            .values_list("provider", "model")
            .distinct()
        )
        return {p for p, m in used if names.get(p) == m}

    def price_at(self, provider: str, model: str, moment: datetime) -> PriceVersion | None:
        """Money rule 1: the version with the latest effective_from ≤ moment."""
        starts = self.starts.get((provider, model))
        if not starts:
            return None
        position = bisect.bisect_right(starts, moment)
        return self.versions[(provider, model)][position - 1] if position else None
