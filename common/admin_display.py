"""How the admin shows stored values to finance: money as ¥1,234.50, frozen parties and
event details as labelled lines instead of JSON, quantities without trailing zeros, times
in the business time zone."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

PARTY_LABELS = {
    "name": _("name"),
    "tax_id": _("unified social credit code"),
    "address": _("address"),
    "phone": _("phone"),
    "bank_name": _("bank"),
    "bank_account": _("bank account"),
    "email": _("e-mail"),
    "province_code": _("tax bureau province code"),
}

# Keys found in bill, invoice and alert event details, and how to call them.
DETAIL_LABELS = {
    "amount": _("amount"),
    "applied": _("applied to the bill"),
    "vat": _("VAT"),
    "total": _("total"),
    "number": _("number"),
    "reference": _("bank reference"),
    "status_from": _("status before"),
    "status_to": _("status after"),
    "payer_mismatch": _("payer differs from customer"),
    "reason": _("reason"),
    "reasons": _("why it is held"),
    "note": _("note"),
    "bytes": _("file size (bytes)"),
    "original": _("original blue invoice"),
    "red": _("red-letter invoice"),
    "due_on": _("due on"),
    "to": _("to"),
    "projected": _("projected month-end spend"),
    "expected_date": _("expected to reach the budget on"),
    "scope": _("scope"),
    "day": _("day"),
    "key_id": _("API key"),
    "model": _("model"),
    "growth": _("growth"),
    "error": _("error"),
    "stage": _("stage"),
    "side": _("from"),
}


def money_text(money) -> str:
    """¥1,234.50, or -¥238.80 for a red invoice."""
    if money is None:
        return "—"
    amount = getattr(money, "amount", money)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def amount_text(amount, currency: str) -> str:
    """An amount in its currency: CNY as ¥1,234.50 (the one format), another currency as
    1,234.50 USD."""
    if amount is None:
        return "—"
    return money_text(amount) if currency == "CNY" else f"{Decimal(amount):,.2f} {currency}"


def number_text(value) -> str:
    """Quantities and unit prices as written on paper: no trailing zeros beyond two decimals
    (1, 238.80, 0.00012345), thousands separated by commas in every language — as the money
    is; Django's intcomma follows the locale, and zh-Hans groups by nothing."""
    if value is None:
        return "—"
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value.normalize():f}"
    whole, _dot, frac = text.partition(".")
    return f"{f'{int(whole):,}' if whole not in ('-0', '0') else whole}.{frac.ljust(2, '0')}"


def count_text(value) -> str:
    """A count (requests, tokens) as 1,234,567 in every language (see ``number_text``)."""
    return "—" if value is None else f"{int(value):,}"


def local_time(moment) -> str:
    return "—" if moment is None else timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def party_html(data: dict) -> str:
    """Frozen seller/buyer details as labelled lines."""
    rows = [(PARTY_LABELS[k], data[k]) for k in PARTY_LABELS if data.get(k)]
    return format_html_join("", "<div>{}: {}</div>", rows) or "—"


MONEY_DETAILS = frozenset({"amount", "applied", "vat", "total", "projected"})
DETAIL_VALUES = {"no billing e-mail": _("no billing e-mail")}


def details_html(data: dict, values: dict | None = None) -> str:
    """An event's details as labelled lines; ``values`` translates coded values — by
    ``(key, value)`` first (a dunning stage), then by value (statuses); amounts as money."""
    values = values or {}
    if not data:
        return "—"
    rows = []
    for key, value in data.items():
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list | tuple):
            value = "; ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif key in MONEY_DETAILS and _is_amount(value):
            value = money_text(Decimal(str(value)))
        else:
            value = values.get((key, value), values.get(value, DETAIL_VALUES.get(value, value)))
        rows.append((DETAIL_LABELS.get(key, key), value))
    return format_html_join("", "<div>{}: {}</div>", rows)


def _is_amount(value) -> bool:
    try:
        Decimal(str(value))
    except ArithmeticError:
        return False
    return True


def rates_text(rates: dict) -> str:
    """{"USD": "7.130200"} → USD 7.1302."""
    if not rates:
        return "—"
    return ", ".join(f"{currency} {Decimal(rate).normalize():f}" for currency, rate in sorted(rates.items()))


def money_column(field: str, description, ordering: str | None = None):
    """An admin column / read-only field showing the money field ``field`` as ¥1,234.50 in
    every language (django-money would write CN¥ in English)."""

    def show(model_admin, obj) -> str:
        return money_text(getattr(obj, field))

    show.short_description = description
    show.admin_order_field = ordering or field
    show.__name__ = f"{field}_cny"
    return show


def labelled_filter(field: str, title, labels: dict):
    """An admin list filter on a coded field without choices (an invoice's backend, a usage
    variant), its values named in the reader's language — a code without a label as it is."""

    class LabelledFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            values = model_admin.get_queryset(request).order_by(field).values_list(field, flat=True).distinct()
            return [(value, labels.get(value, value)) for value in values]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    LabelledFilter.title = title
    LabelledFilter.__name__ = f"{field.title()}Filter"
    return LabelledFilter
