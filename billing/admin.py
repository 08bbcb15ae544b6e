"""Admin for the price book, exchange rates, daily usage and quarantined records."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.models import ExchangeRate, ModelAlias, PriceVersion, QuarantinedRecord, UsageRollup
from billing.periods import format_period
from procurement.api import Conflict


class LockedReadOnlyMixin:
    """Versions/rates used by an issued bill are shown read-only and cannot be deleted."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.locked_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.locked_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        locked = queryset.filter(locked_at__isnull=False).count()
        if locked:
            self.message_user(
                request, _("%(n)d locked rows were kept: issued bills use them.") % {"n": locked}, messages.WARNING
            )
        super().delete_queryset(request, queryset.filter(locked_at__isnull=True))


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
    list_filter = ["provider", "currency", "source", ("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["provider", "model", "note"]
    date_hierarchy = "effective_from"
    readonly_fields = ["source", "locked_at", "created_at", "created_by"]

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: PriceVersion) -> bool:
        return obj.locked_at is not None

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
        return self.cleaned_data["period"].replace(day=1)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["currency", "period_label", "rate", "updated_at", "updated_by", "locked"]
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


@admin.register(UsageRollup)
class UsageRollupAdmin(admin.ModelAdmin):
    """Daily usage, read-only: it is written by ingestion only."""

    list_display = [
        "day",
        "customer",
        "project",
        "api_key",
        "provider",
        "model",
        "requests",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "cost",
        "currency",
        "priced",
        "bill_period",
    ]
    list_filter = ["period", "provider", ("price_version", admin.EmptyFieldListFilter), "customer"]
    search_fields = ["customer__code", "project__code", "api_key__key_id", "model"]
    date_hierarchy = "day"
    list_select_related = ["customer", "project", "api_key"]

    @admin.display(boolean=True, description=_("priced"))
    def priced(self, obj: UsageRollup) -> bool:
        return obj.price_version_id is not None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    """Records the gateway sent that were rejected: what was sent and why."""

    list_display = ["received_at", "request_id", "error_summary", "source", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "received_at"]
    search_fields = ["request_id"]
    date_hierarchy = "received_at"
    readonly_fields = ["received_at", "source", "batch_index", "request_id", "payload", "errors"]
    fields = readonly_fields + ["resolved_at", "resolution_note"]
    actions = ["mark_resolved"]

    @admin.display(description=_("errors"))
    def error_summary(self, obj: QuarantinedRecord) -> str:
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in (obj.errors or {}).items())[:200]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as resolved"))
    def mark_resolved(self, request, queryset):
        from django.utils import timezone

        updated = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, _("%(n)d records marked resolved.") % {"n": updated}, messages.SUCCESS)
