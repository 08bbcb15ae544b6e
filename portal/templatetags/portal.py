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
