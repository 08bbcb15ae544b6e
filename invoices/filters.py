"""The invoices API's query parameters (a FilterSet; a value outside the choices is a 400 naming it)."""

from __future__ import annotations

import django_filters

from invoices.models import Invoice


class InvoiceFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(method="filter_customer")
    bill = django_filters.CharFilter(field_name="bill__number")
    color = django_filters.ChoiceFilter(choices=Invoice.Color.choices)
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices)

    class Meta:
        model = Invoice
        fields = ["customer", "bill", "color", "status"]

    def filter_customer(self, queryset, name, value):
        return queryset.filter(customer__code=value.upper())
