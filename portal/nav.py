"""The portal's navigation: each section, the URL it opens and the roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
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
    """The sections ``membership``'s role may open, with their URLs (every section's page
    exists: a name that does not resolve is an error, never a section silently left out)."""
    return [
        {"url": reverse(section.url_name), "label": section.label, "url_name": section.url_name}
        for section in SECTIONS
        if membership.role in section.roles
    ]
