"""The billing API's query parameters: FilterSets for the lists, query serializers for reports.

One period parser for every parameter and body field that names a month: ``PeriodFilter``
(filters) and ``PeriodField`` (serializers) clean through ``billing.periods.period_from``, as
forms do through ``billing.periods.PeriodFormField``, and so give the same error:
``{"period": ["Write the period as YYYY-MM."]}`` in the API's error shape.
"""

from __future__ import annotations

from datetime import date

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from billing.metering.selectors import GROUPINGS
from billing.models import Alert, Bill, PriceVersion
from billing.periods import PeriodFormField, period_from
from customers.access import READ_USAGE_ROLES, customer_for


class PeriodFilter(django_filters.Filter):
    field_class = PeriodFormField


class PeriodField(serializers.CharField):
    """A month in a request body or a report's parameters, as ``YYYY-MM``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "YYYY-MM")
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> date:
        return period_from(super().to_internal_value(data))


class OneOfField(django_filters.fields.ChoiceField):
    """A choice whose error lists the choices: "One of: a, b." (or a message of its own)."""

    default_error_messages = {"invalid_choice": _("One of: %(choices)s.")}

    def validate(self, value) -> None:
        try:
            super().validate(value)
        except DjangoValidationError as exc:
            choices = ", ".join(str(key) for key, _label in self.choices if key != "")
            raise DjangoValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"choices": choices}
            ) from exc


class OneOfFilter(django_filters.ChoiceFilter):
    field_class = OneOfField


class PriceFilter(django_filters.FilterSet):
    provider = django_filters.CharFilter()
    model = django_filters.CharFilter()

    class Meta:
        model = PriceVersion
        fields = ["provider", "model"]


class BillFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(method="filter_customer")
    period = PeriodFilter()
    status = OneOfFilter(choices=Bill.Status.choices)

    class Meta:
        model = Bill
        fields = ["customer", "period", "status"]

    def filter_customer(self, queryset, name, value):
        return queryset.filter(customer__code=value.upper())


class AlertFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(method="filter_customer")
    period = PeriodFilter()
    kind = OneOfFilter(
        choices=Alert.Kind.choices, error_messages={"invalid_choice": _("One of: threshold, forecast, anomaly.")}
    )

    class Meta:
        model = Alert
        fields = ["customer", "period", "kind"]

    def filter_customer(self, queryset, name, value):
        return queryset.filter(customer=customer_for(self.request.user, value, roles=READ_USAGE_ROLES))


class OneOf(serializers.ChoiceField):
    """A report parameter's choice, with the same error as ``OneOfFilter``."""

    default_error_messages = {"invalid_choice": _("One of: %(choices)s.")}

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        if str(data) not in self.choice_strings_to_values:
            raise serializers.ValidationError(
                self.error_messages["invalid_choice"] % {"choices": ", ".join(self.choice_strings_to_values)},
                code="invalid_choice",
            )
        return self.choice_strings_to_values[str(data)]


class UsageSummaryQuery(serializers.Serializer):
    customer = serializers.CharField(required=False, allow_blank=True, default="")
    period = PeriodField(required=False, allow_blank=True)
    group_by = OneOf(choices=list(GROUPINGS), default="model")


class RevenueQuery(serializers.Serializer):
    period = PeriodField(required=False, allow_blank=True)
    group_by = OneOf(
        choices=["customer", "model"],
        default="customer",
        error_messages={"invalid_choice": _("One of: customer, model.")},
    )


class InsightsQuery(serializers.Serializer):
    period = PeriodField(required=False, allow_blank=True)
