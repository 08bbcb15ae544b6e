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
            fieldsets.append((_("Receivables"), {"fields": ["receivables"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(["receivables"] if obj else [])]

    @admin.display(description=_("open bills, balance and credit"))
    def receivables(self, obj: Customer) -> str:
        from billing.admin.receivables import customer_receivables_html

        return customer_receivables_html(obj)
