"""Writes for the price book and the exchange rates (locked once an issued bill uses them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import ExchangeRate, PriceVersion
from common.api import Conflict
from customers.audit import audit_record, changes
from customers.models import AuditEvent


class LockedError(Conflict):
    pass


@transaction.atomic
def price_version_set(
    *,
    provider: str,
    model: str,
    effective_from: datetime,
    currency: str,
    input_per_mtok: Decimal,
    output_per_mtok: Decimal,
    cached_input_per_mtok: Decimal | None = None,
    source: str = PriceVersion.Source.API,
    note: str = "",
    by=None,
) -> tuple[PriceVersion, bool]:
    """Add a price version, or override the one with the same (provider, model, effective_from)
    unless an issued bill used it. Returns (version, created)."""
    provider, model = provider.strip(), model.strip()
    if cached_input_per_mtok is not None and cached_input_per_mtok > input_per_mtok:
        raise ValidationError(
            {"cached_input_per_mtok": [_("A cached-input price above the input price is almost certainly a typo.")]}
        )
    version = (
        PriceVersion.objects.select_for_update()
        .filter(provider=provider, model=model, effective_from=effective_from)
        .first()
    )
    created = version is None
    if version is None:
        version = PriceVersion(provider=provider, model=model, effective_from=effective_from)
    elif version.locked_at is not None:
        raise LockedError(
            _("This price version is used by an issued bill and cannot change; add a new version instead.")
        )
    before = {} if created else _price_terms(version)
    version.currency = currency
    version.input_per_mtok = input_per_mtok
    version.cached_input_per_mtok = cached_input_per_mtok
    version.output_per_mtok = output_per_mtok
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
