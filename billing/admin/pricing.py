"""Admin: price versions, model aliases and exchange rates."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from billing.admin.shared import LockedReadOnlyMixin
from billing.models import (
    ExchangeRate,
    ModelAlias,
    PriceVersion,
)
from billing.periods import FIRST_PERIOD, LAST_PERIOD, PERIOD_RANGE_ERROR, format_period
from billing.pricing import services
from common.admin_export import export_as_csv, export_as_xlsx
from common.api import Conflict


@admin.register(PriceVersion)
class PriceVersionAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "provider",
        "model",
        "effective_from",
        "currency",
        "input_per_mtok",
        "cached_input_per_mtok",
        "output_per_mtok",
        "source",
        "locked",
    ]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["provider", "currency", "source", ("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["provider", "model", "note"]
    date_hierarchy = "effective_from"
    readonly_fields = ["source", "locked_at", "created_at", "created_by"]

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: PriceVersion) -> bool:
        return obj.locked_at is not None

    def get_changeform_initial_data(self, request):
        """The link from a held draft fills in the effective time (ISO 8601) of the earliest
        unpriced call; the date and time inputs need it as a datetime."""
        initial = super().get_changeform_initial_data(request)
        value = initial.get("effective_from")
        if isinstance(value, str):
            parsed = parse_datetime(value.replace(" ", "+"))  # a "+" left unescaped in a query
            if parsed is None:
                del initial["effective_from"]
            else:
                initial["effective_from"] = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        return initial

    def save_model(self, request, obj, form, change):
        try:
            version, _created = services.price_version_set(
                provider=obj.provider,
                model=obj.model,
                effective_from=obj.effective_from,
                currency=obj.currency,
                input_per_mtok=obj.input_per_mtok,
                cached_input_per_mtok=obj.cached_input_per_mtok,
                output_per_mtok=obj.output_per_mtok,
                source=PriceVersion.Source.ADMIN,
                note=obj.note,
                by=request.user,
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = version.pk


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ["provider", "alias", "model"]
    list_filter = ["provider"]
    search_fields = ["alias", "model"]


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "period", "rate"]

    def clean_period(self):
        period = self.cleaned_data["period"].replace(day=1)
        if not FIRST_PERIOD <= period <= LAST_PERIOD:
            raise ValidationError(PERIOD_RANGE_ERROR)
        return period


@admin.register(ExchangeRate)
class ExchangeRateAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["currency", "period_label", "rate", "updated_at", "updated_by", "locked"]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["currency", ("locked_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "period"

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: ExchangeRate) -> str:
        return format_period(obj.period)

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: ExchangeRate) -> bool:
        return obj.locked_at is not None

    def save_model(self, request, obj, form, change):
        try:
            rate, _created = services.exchange_rate_set(
                currency=obj.currency, period=obj.period, rate=obj.rate, by=request.user
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = rate.pk
