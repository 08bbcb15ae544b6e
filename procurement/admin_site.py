"""The admin site: the apps finance works in first, Django's own (users, periodic tasks) last."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# The admin home lists apps in this order; any app not named sits between the two groups.
LEADING_APPS = ["customers", "billing", "invoices", "presales"]
TRAILING_APPS = ["auth", "django_celery_beat"]


class ProcurementAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] == "billing" and any(m["object_name"] == "Bill" for m in app["models"]):
                # Not a model, but where finance looks for it: beside the bills.
                app["models"].append(
                    {
                        "name": _("Receivables aging"),
                        "object_name": "ReceivablesAging",
                        "admin_url": reverse("admin:billing_bill_aging"),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    }
                )
        return sorted(apps, key=lambda app: _rank(app["app_label"]))


def _rank(app_label: str) -> tuple[int, int]:
    if app_label in LEADING_APPS:
        return (0, LEADING_APPS.index(app_label))
    if app_label in TRAILING_APPS:
        return (2, TRAILING_APPS.index(app_label))
    return (1, 0)


class ProcurementAdminConfig(AdminConfig):
    """Installed instead of ``django.contrib.admin`` so that ``admin.site`` is the site above."""

    default_site = "procurement.admin_site.ProcurementAdminSite"
