"""Admin: the customer's page gains what it owes."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from customers.admin import CustomerAdmin
from customers.models import Customer

# --- The customer's page: what it owes ---------------------------------------------------------
# customers cannot import billing (dependencies point billing → customers), so the customer
# admin gains its receivables here.

admin.site.unregister(Customer)


@admin.register(Customer)
class BillingCustomerAdmin(CustomerAdmin):
    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append((_("Receivables"), {"fields": ["receivables", "statement"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(["receivables", "statement"] if obj else [])]

    @admin.display(description=_("open bills, balance and credit"))
    def receivables(self, obj: Customer) -> str:
        from billing.admin.receivables import customer_receivables_html

        return customer_receivables_html(obj)

    @admin.display(description=_("statement of account"))
    def statement(self, obj: Customer) -> str:
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("workspace:statement") + f"?customer={obj.code}"
        pdf = reverse("documents:statement-pdf", args=[obj.code])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}" target="_blank" rel="noopener">{}</a>',
            url,
            _("this month's, or any range"),
            pdf,
            _("PDF (对账函) of this month"),
        )
