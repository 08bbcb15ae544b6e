"""Template filters of the staff pages: the same money and number texts as admin and portal."""

from decimal import Decimal

from django import template

from common.admin_display import money_text, number_text

register = template.Library()


@register.filter
def money(value) -> str:
    """¥1,234.50; "—" for none (or a figure the row does not have)."""
    return money_text(None if value == "" else value)


@register.filter
def quantity(value) -> str:
    return number_text(None if value == "" else value)


@register.filter
def percent(value) -> str:
    """12.34 % (already rounded by the selector); "—" for none."""
    return "—" if value is None or value == "" else f"{Decimal(value):.2f} %"
