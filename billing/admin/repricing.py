"""Admin: unpriced usage and re-pricing it — the link that adds a missing price (filled in
with the held usage's earliest time), the re-price step (``billing.metering.reprice``) and,
when something stays unpriced, why.

Shared by the bill admin (a held draft), the daily usage admin (this month's unpriced
usage) and the staff dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing.metering.reprice import usage_reprice
from billing.models import PriceVersion, UsageRecord


@dataclass(frozen=True)
class Unpriced:
    provider: str
    model: str
    earliest: datetime  # the earliest call stored without a price
    records: int

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"


def unpriced_usage(*, customer_ids=None, bill_period: date | None = None, period: date | None = None) -> list[Unpriced]:
    """The usage stored without a price, per provider × model, with its earliest time: of
    the given customers (all when None), billed in or before ``bill_period`` (a held draft),
    or used in ``period``."""
    records = UsageRecord.objects.filter(price_version__isnull=True)
    if customer_ids is not None:
        records = records.filter(customer_id__in=list(customer_ids))
    if bill_period is not None:
        records = records.filter(bill_period__lte=bill_period)
    if period is not None:
        records = records.filter(period=period)
    rows = (
        records.values("provider", "model")
        .annotate(earliest=Min("occurred_at"), records=Count("id"))
        .order_by("provider", "model")
    )
    return [Unpriced(r["provider"], r["model"], r["earliest"], r["records"]) for r in rows]


def unpriced_periods(*, customer_ids=None, bill_period: date | None = None, period: date | None = None) -> list[date]:
    """The usage periods holding that unpriced usage: what ``usage_reprice`` takes."""
    records = UsageRecord.objects.filter(price_version__isnull=True)
    if customer_ids is not None:
        records = records.filter(customer_id__in=list(customer_ids))
    if bill_period is not None:
        records = records.filter(bill_period__lte=bill_period)
    if period is not None:
        records = records.filter(period=period)
    return sorted(records.values_list("period", flat=True).distinct())


def local_minute(moment: datetime) -> datetime:
    """``moment`` in the business time zone, to the minute below (a price effective then
    covers the call)."""
    return timezone.localtime(moment).replace(second=0, microsecond=0)


def time_text(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def price_add_url(item: Unpriced) -> str:
    """The price form, filled in: provider, model and the effective time of the earliest
    unpriced call (the form's "today / now" would start the price after it)."""
    query = {"provider": item.provider, "model": item.model, "effective_from": local_minute(item.earliest).isoformat()}
    return reverse("admin:billing_priceversion_add") + "?" + urlencode(query)


def why_still_unpriced(item: Unpriced) -> str:
    """Why a re-price left ``item`` unpriced, in the reader's language."""
    first = PriceVersion.objects.filter(provider=item.provider, model=item.model).order_by("effective_from").first()
    values = {"model": item.name, "earliest": time_text(item.earliest), "n": item.records}
    if first is None:
        return (
            _("%(model)s has no price yet (%(n)d calls, earliest %(earliest)s): add its price, then re-price.") % values
        )
    values["start"] = time_text(first.effective_from)
    return (
        _(
            "%(model)s: the price starts after the held usage: earliest %(earliest)s, price from %(start)s. "
            "Add a price effective from %(earliest)s or earlier, then re-price."
        )
        % values
    )


def reprice(*, customer_ids=None, bill_period: date | None = None, period: date | None = None) -> tuple[int, list[str]]:
    """Re-price the unpriced usage selected as in :func:`unpriced_usage` (the whole periods
    it lies in, as ``reprice_usage`` does); returns how many of the selection's records were
    re-priced and, for what stays unpriced of the selection, why."""
    selection = {"customer_ids": customer_ids, "bill_period": bill_period, "period": period}
    before = sum(item.records for item in unpriced_usage(**selection))
    for usage_period in unpriced_periods(**selection):
        usage_reprice(period=usage_period)  # the whole period, every customer (as reprice_usage)
    still = unpriced_usage(**selection)
    # Counted on the selection: the period's other customers are not this bill's news.
    return before - sum(item.records for item in still), [why_still_unpriced(item) for item in still]
