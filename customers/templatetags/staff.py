"""The staff shell's navigation (templates/staff/base.html): the pages the signed-in staff
member may open — the finance workspace for finance, presales for presales and finance —
and the admin. URL names only: no import of the apps that own the pages."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.access import is_finance, is_presales

register = template.Library()

# (key, URL name, label, who may open it)
_SECTIONS = (
    ("dashboard", "workspace:dashboard", lambda: _("Dashboard"), is_finance),
    ("reconciliation", "workspace:reconciliation", lambda: _("Provider cost and margin"), is_finance),
    ("statement", "workspace:statement", lambda: _("Statement of account"), is_finance),
    ("presales", "presales:intake", lambda: _("Presales"), lambda user: is_presales(user) or is_finance(user)),
)


def staff_sections(user, view_name: str) -> list[dict]:
    """The sections ``user`` may open; ``current`` marks the one ``view_name`` belongs to
    (every presales page belongs to the presales section)."""
    namespace = view_name.partition(":")[0]
    return [
        {
            "key": key,
            "url": reverse(url_name),
            "label": label(),
            "current": view_name == url_name or (key == "presales" and namespace == "presales"),
        }
        for key, url_name, label, may in _SECTIONS
        if may(user)
    ]


@register.simple_tag(takes_context=True)
def staff_home(context) -> str:
    """The brand's link: the first section the signed-in member may open (the dashboard for
    finance, presales for presales) — never a page that answers 403."""
    sections = staff_sections(context["request"].user, "")
    return sections[0]["url"] if sections else reverse("workspace:dashboard")


@register.inclusion_tag("staff/_nav.html", takes_context=True)
def staff_nav(context):
    request = context["request"]
    view_name = request.resolver_match.view_name if request.resolver_match else ""
    return {"sections": staff_sections(request.user, view_name), "is_staff": request.user.is_staff}
