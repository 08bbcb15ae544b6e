"""Counts on the presales pages and PDF as people read them: 1,500,000, rounded half up
like the API's counts (the locale's own grouping is off in zh-hans)."""

from decimal import Decimal

from django import template

from presales.selectors import count_rounded

register = template.Library()


@register.filter
def grouped(value) -> str:
    """A count (int or Decimal) with thousands separators; anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return value
    return f"{count_rounded(Decimal(value)):,}"
