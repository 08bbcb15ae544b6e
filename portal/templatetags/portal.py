"""Template filters of the portal: money as ¥1,234.50 in every language."""

from django import template

from common.admin_display import money_text, number_text

register = template.Library()


@register.filter
def money(value) -> str:
    """A Money or Decimal as ¥1,234.50 (-¥12.00 for a credit); "—" for none."""
    return money_text(value)


@register.filter
def quantity(value) -> str:
    """A token or request count with thousands separators, no trailing zeros."""
    return number_text(value)


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def portal_nav(context):
    from portal.nav import sections_for

    request = context["request"]
    membership = getattr(request, "portal", None)
    current = request.resolver_match.view_name if request.resolver_match else ""
    return {"sections": sections_for(membership) if membership else [], "current": current}
