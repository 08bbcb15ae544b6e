"""Price versions and aliases for a set of model names, searchable by time (money rule 1, docs/money-rules.md)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime

from billing.models import ModelAlias, PriceVersion


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

    def resolve(self, provider: str, model: str) -> tuple[str, str] | None:
        """(provider, canonical model), or None when several providers sell ``model``."""
        if provider:
            return provider, self.alias.get((provider, model), model)
        candidates = self.providers_of.get(model, set())
        if len(candidates) > 1:
            return None
        if not candidates:
            return "", model
        (only,) = candidates
        return only, self.alias.get((only, model), model)

    def price_at(self, provider: str, model: str, moment: datetime) -> PriceVersion | None:
        """Money rule 1: the version with the latest effective_from ≤ moment."""
        starts = self.starts.get((provider, model))
        if not starts:
            return None
        position = bisect.bisect_right(starts, moment)
        return self.versions[(provider, model)][position - 1] if position else None
