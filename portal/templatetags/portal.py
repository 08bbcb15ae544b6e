"""The portal shell's section navigation (money and quantities: the builtin ``money``
library, common/templatetags/money.py)."""

from django import template

register = template.Library()


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def portal_nav(context):
    from portal.nav import sections_for

    request = context["request"]
    membership = getattr(request, "portal", None)
    current = request.resolver_match.view_name if request.resolver_match else ""
    return {"sections": sections_for(membership) if membership else [], "current": current}


@register.filter
def variant_name(variant: str) -> str:
    """A usage variant (``standard``, ``batch``, ``batch+flex``…) in the reader's words, as the
    bill prints it (billing.bills.wording)."""
    from billing.bills.wording import variant_words

    return variant_words(variant)


@register.filter
def variant_names(variants) -> str:
    """Several variants (a row's ``variants``), each in the reader's words."""
    return ", ".join(variant_name(name) for name in variants)
