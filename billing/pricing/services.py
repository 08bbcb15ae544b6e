"""Writes for the price book and the exchange rates (locked once an issued bill uses them)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import ExchangeRate, PriceVersion
from billing.models.pricing import SHORTHAND_KEYS
from billing.pricing import pricemaps
from common.errors import Conflict
from customers.audit import audit_record, changes
from customers.models import AuditEvent


class LockedError(Conflict):
    pass


def price_maps_apply(version: PriceVersion, prices: dict, variants: list, windows: list) -> None:
    """Set a version's (already clean) maps and the shorthand they imply, on the instance."""
    version.prices, version.variants, version.windows = prices, variants, windows
    for field, key in SHORTHAND_KEYS.items():
        setattr(version, field, pricemaps.price_base(prices.get(key)))


def price_maps_merge(
    *,
    prices: dict | None,
    variants: list | None,
    windows: list | None,
    shorthand: dict[str, Decimal | None],
    current: PriceVersion | None = None,
) -> tuple[dict, list, list]:
    """The maps a write means, validated: ``prices`` as given (else the current version's),
    with the shorthand fields written over their keys (a tiered key's base), both ways
    consistent. Giving a shorthand field and a different ``prices`` entry for it → 400."""
    if prices is not None and not isinstance(prices, dict):
        raise ValidationError({"prices": [_("A map of price keys to prices.")]})
    base = dict(prices) if prices is not None else (dict(current.price_map()) if current is not None else {})
    errors: dict[str, list[str]] = {}
    for field, value in shorthand.items():
        key = SHORTHAND_KEYS[field]
        if prices is not None and key in prices:
            given = prices[key]
            given_base = given.get("base") if isinstance(given, dict) else given
            try:
                same = value is not None and Decimal(str(given_base)) == value
            except (InvalidOperation, TypeError):
                same = False
            if not same:
                errors.setdefault(field, []).append(
                    _("Differs from prices.%(key)s; give one of the two.") % {"key": key}
                )
            continue
        if value is None:
            base.pop(key, None)
        elif isinstance(base.get(key), dict):
            base[key] = {**base[key], "base": f"{value.normalize():f}"}
        else:
            base[key] = f"{value.normalize():f}"
    if errors:
        raise ValidationError(errors)
    return pricemaps.price_maps_clean(
        base,
        variants if variants is not None else (current.variants if current is not None else []),
        windows if windows is not None else (current.windows if current is not None else []),
    )


_UNSET = object()


@transaction.atomic
def price_version_set(
    *,
    provider: str,
    model: str,
    effective_from: datetime,
    currency: str,
    input_per_mtok=_UNSET,
    output_per_mtok=_UNSET,
    cached_input_per_mtok=_UNSET,
    prices: dict | None = None,
    variants: list | None = None,
    windows: list | None = None,
    source: str = PriceVersion.Source.API,
    note: str = "",
    by=None,
) -> tuple[PriceVersion, bool]:
    """Add a price version, or override the one with the same (provider, model, effective_from)
    unless an issued bill used it. Returns (version, created).

    The prices come as ``prices`` / ``variants`` / ``windows`` (CONTRACT.md "Price
    dimensions"), as the three shorthand fields, or both (they must agree); nothing is written
    unless the whole is valid."""
    provider, model = provider.strip(), model.strip()
    shorthand = {
        field: value
        for field, value in (
            ("input_per_mtok", input_per_mtok),
            ("cached_input_per_mtok", cached_input_per_mtok),
            ("output_per_mtok", output_per_mtok),
        )
        if value is not _UNSET
    }
    version = (
        PriceVersion.objects.select_for_update()
        .filter(provider=provider, model=model, effective_from=effective_from)
        .first()
    )
    created = version is None
    if version is not None and version.locked_at is not None:
        raise LockedError(
            _("This price version is used by an issued bill and cannot change; add a new version instead.")
        )
    if prices is None and shorthand and "cached_input_per_mtok" not in shorthand:
        # The old three-field form: an absent cached price means "cached at the input price".
        shorthand["cached_input_per_mtok"] = None
    clean = price_maps_merge(
        prices=prices,
        variants=variants,
        windows=windows,
        shorthand=shorthand,
        current=None if prices is not None else version,
    )
    cached, inp = (
        pricemaps.price_base(clean[0].get("cache_read_mtok")),
        pricemaps.price_base(clean[0].get("input_mtok")),
    )
    if cached is not None and inp is not None and cached > inp:
        raise ValidationError(
            {"cached_input_per_mtok": [_("A cached-input price above the input price is almost certainly a typo.")]}
        )
    if version is None:
        version = PriceVersion(provider=provider, model=model, effective_from=effective_from)
    before = {} if created else _price_terms(version)
    version.currency = currency
    price_maps_apply(version, *clean)
    version.source = source
    version.note = note
    if by is not None and getattr(by, "pk", None):
        version.created_by = by
    version.full_clean(validate_unique=False, validate_constraints=False)
    version.save()
    audit_record(
        AuditEvent.Action.PRICE_VERSION_SET,
        f"{provider}/{model} @ {effective_from.isoformat()}",
        by,
        created=created,
        changes=changes(before, _price_terms(version)),
        source=source,
    )
    return version, created


def _price_terms(version: PriceVersion) -> dict:
    return {
        "currency": version.currency,
        "input_per_mtok": version.input_per_mtok,
        "cached_input_per_mtok": version.cached_input_per_mtok,
        "output_per_mtok": version.output_per_mtok,
        # JSON text with sorted keys: the database hands maps back in its own key order.
        "prices": json.dumps(version.price_map(), sort_keys=True),
        "variants": json.dumps(version.variants or [], sort_keys=True),
        "windows": json.dumps(version.windows or [], sort_keys=True),
    }


@transaction.atomic
def exchange_rate_set(*, currency: str, period: date, rate: Decimal, by=None) -> tuple[ExchangeRate, bool]:
    if rate <= 0:
        raise ValidationError({"rate": [_("The rate must be greater than zero.")]})
    if currency == "CNY":
        raise ValidationError({"currency": [_("CNY needs no rate; it is the bill currency.")]})
    existing = ExchangeRate.objects.select_for_update().filter(currency=currency, period=period).first()
    if existing is not None:
        if existing.locked_at is not None:
            raise LockedError(
                _("An issued bill used this rate; it cannot change. Correct the bill by voiding and reissuing it.")
            )
        before = existing.rate
        existing.rate = rate
        existing.updated_by = by if getattr(by, "pk", None) else None
        existing.save(update_fields=["rate", "updated_by", "updated_at"])
        _audit_rate(existing, by, created=False, before=before)
        return existing, False
    created = ExchangeRate.objects.create(
        currency=currency, period=period, rate=rate, updated_by=by if getattr(by, "pk", None) else None
    )
    _audit_rate(created, by, created=True, before=None)
    return created, True


def _audit_rate(rate: ExchangeRate, by, *, created: bool, before: Decimal | None) -> None:
    audit_record(
        AuditEvent.Action.EXCHANGE_RATE_SET,
        f"{rate.currency} {rate.period:%Y-%m}",
        by,
        created=created,
        changes=changes({"rate": before}, {"rate": rate.rate}),
    )
