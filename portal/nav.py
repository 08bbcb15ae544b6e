"""The portal's navigation: each section, the URL it opens and the roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from customers.access import MANAGE_ROLES, MONEY_ROLES, READ_USAGE_ROLES


@dataclass(frozen=True)
class Section:
    url_name: str
    label: str
    roles: frozenset[str]


SECTIONS = (
    Section("portal:home", _("Overview"), READ_USAGE_ROLES),
    Section("portal:usage", _("Usage"), READ_USAGE_ROLES),
    Section("portal:bills", _("Bills"), MONEY_ROLES),
    Section("portal:statement", _("Statement of account"), MONEY_ROLES),
    Section("portal:invoices", _("Invoices"), MONEY_ROLES),
    Section("portal:invoice-titles", _("Invoice titles"), MONEY_ROLES),
    Section("portal:keys", _("API keys"), READ_USAGE_ROLES),
    Section("portal:budgets", _("Budgets"), READ_USAGE_ROLES),
    Section("portal:alerts", _("Alerts"), READ_USAGE_ROLES),
    Section("portal:users", _("Users"), MANAGE_ROLES),
)


def sections_for(membership) -> list[dict]:
    """The sections ``membership``'s role may open, with their URLs.

    TODO(merge): while the portal's pages are being built in parallel branches a section
    whose URL is not registered yet is left out; once every page exists, drop the guard."""
    found = []
    for section in SECTIONS:
        if membership.role not in section.roles:
            continue
        try:
            url = reverse(section.url_name)
        except NoReverseMatch:
            continue
        found.append({"url": url, "label": section.label, "url_name": section.url_name})
    return found
