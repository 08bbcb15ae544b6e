"""The one money format of every page, PDF, e-mail and estimate: ``¥1,234.50``
(``-¥12.00`` for a credit), the same in every language (CONTRACT "Customer portal": money
is shown as ¥1,234.50) — ``{{ amount|money }}``. Python code formats through the same
helper, ``common.admin_display.money_text``.

This library is a template builtin (settings ``TEMPLATES["OPTIONS"]["builtins"]``): every
template of both shells, the PDFs and the e-mails has ``money``, ``quantity``, ``percent``
and ``unit_price`` without loading it (``{% load money %}`` still works)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from common.admin_display import money_text, number_text

register = template.Library()


def _figure(value):
    """A Money, Decimal, int or decimal string as it is; None for "no figure" (None, "")."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


@register.filter
def money(value) -> str:
    """A Money, Decimal or two-decimal string as ¥1,234.50; "—" for none."""
    value = _figure(value)
    return value if isinstance(value, str) else money_text(value)


@register.filter
def quantity(value) -> str:
    """A token or request count with thousands separators, no trailing zeros; "—" for none."""
    value = _figure(value)
    return value if isinstance(value, str) else number_text(value)


@register.filter
def percent(value) -> str:
    """12.34 % (already rounded by the selector); "—" for none."""
    value = _figure(value)
    return "—" if value is None else f"{Decimal(value):.2f} %"


@register.filter
def unit_price(value) -> str:
    """A price per million tokens as written on paper: 2.5 → 2.50, 0.075 → 0.075."""
    return number_text(value)
