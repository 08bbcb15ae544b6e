"""The admin site: the apps finance works in first, Django's own (users, periodic tasks) last."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# The admin home lists apps in this order; any app not named sits between the two groups.
LEADING_APPS = ["customers", "billing", "invoices", "presales"]
TRAILING_APPS = ["auth", "django_celery_beat"]


class ProcurementAdminSite(admin.AdminSite):
    def each_context(self, request):
        """ "View site" leads to the user's own pages (the workspace, the presales pages), not
        back to the admin (``/`` redirects there for anyone else); the header links the staff
        pages the user may open."""
        from customers.access import is_finance, is_presales
        from procurement.views import front_page

        context = super().each_context(request)
        user = request.user
        context["site_url"] = front_page(user)
        links = []
        if is_finance(user):
            links.append((reverse("workspace:dashboard"), _("Finance workspace")))
        if is_finance(user) or is_presales(user):
            links.append((reverse("presales:intake"), _("Presales")))
        context["staff_links"] = links
        return context

    def autocomplete_view(self, request):
        return AutocompleteView.as_view(admin_site=self)(request)

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


class AutocompleteView(AutocompleteJsonView):
    """The admin's autocomplete, where the target's admin may narrow the choices for the
    field asking (``autocomplete_queryset(queryset, source_field)``) and say more than the
    object's name (``autocomplete_text(obj)``): the payment form's bill picker offers the
    bills that can take a payment, with customer and balance."""

    def get_queryset(self):
        queryset = super().get_queryset()
        narrow = getattr(self.model_admin, "autocomplete_queryset", None)
        return narrow(queryset, self.source_field) if narrow else queryset

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        text = getattr(self.model_admin, "autocomplete_text", None)
        if text is not None:
            result["text"] = text(obj)
        return result


def _rank(app_label: str) -> tuple[int, int]:
    if app_label in LEADING_APPS:
        return (0, LEADING_APPS.index(app_label))
    if app_label in TRAILING_APPS:
        return (2, TRAILING_APPS.index(app_label))
    return (1, 0)


class ProcurementAdminConfig(AdminConfig):
    """Installed instead of ``django.contrib.admin`` so that ``admin.site`` is the site above."""

    default_site = "procurement.admin_site.ProcurementAdminSite"
