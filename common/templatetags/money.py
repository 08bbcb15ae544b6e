"""The one money format of every page, PDF and estimate: ``¥1,234.50`` (``-¥12.00`` for a
credit), in every language — ``{% load money %}`` then ``{{ amount|money }}``. Pages that
had their own filter (portal, workspace) call the same helper, ``common.admin_display.money_text``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from common.admin_display import money_text, number_text

register = template.Library()


@register.filter
def money(value) -> str:
    """A Money, Decimal or two-decimal string as ¥1,234.50; "—" for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return value
    return money_text(value)


@register.filter
def unit_price(value) -> str:
    """A price per million tokens as written on paper: 2.5 → 2.50, 0.075 → 0.075."""
    return number_text(value)
